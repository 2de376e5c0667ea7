// A raw HTTPS client for the test API server, for tests that talk to the API directly.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TestApiServer } from '../apiserver/server.ts';
import { ROOT } from './run.ts';

export interface ApiResponse {
  status: number;
  body: Record<string, any>;
}

const ca = fs.readFileSync(path.join(ROOT, 'test/fixtures/tls/ca.crt'));

export function apiClient(server: TestApiServer, userAgent = 'curl/8.5.0') {
  return (method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = { Authorization: `Bearer ${server.token}`, 'User-Agent': userAgent, Accept: 'application/json' };
      // Content-Length, or Node sends a DELETE body without any framing.
      if (data !== undefined) Object.assign(headers, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(data)) });
      const req = https.request(new URL(server.url + p), { method, ca, headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {} }));
      });
      req.on('error', reject);
      req.end(data);
    });
}
