// Golden files: expected output lives in test/golden/**; UPDATE_GOLDEN=1 rewrites them instead of comparing.
// Comparison is exact (trailing whitespace included) and fails with a line diff.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ROOT } from './run.ts';

export const GOLDEN_DIR = path.join(ROOT, 'test', 'golden');

export function expectGolden(relative: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, relative);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) assert.unreachable(`golden file ${relative} is missing; run UPDATE_GOLDEN=1 npm test to create it`);
  const expected = fs.readFileSync(file, 'utf8');
  if (expected !== actual) assert.fixture(actual, expected, `output differs from ${relative}`);
}

/**
 * Replaces values that change from run to run (ids, times, addresses, ports, temp paths). Cluster IPs are
 * scrubbed only where the server chose them (`allocatedClusterIPs`): a fixed address that a seed or a command
 * sets, such as istiocoredns' 10.96.0.53, stays in the golden file, so a golden notices when it changes.
 */
export function scrub(text: string, extra: [RegExp | string, string][] = [], allocatedClusterIPs: readonly string[] = []): string {
  let out = text;
  for (const [from, to] of extra) out = typeof from === 'string' ? out.split(from).join(to) : out.replace(from, to);
  for (const ip of allocatedClusterIPs) out = out.replace(new RegExp(`(?<![\\d.])${ip.replace(/\./g, '\\.')}(?!\\d)`, 'g'), '<CLUSTER-IP>');
  const tmpRoot = fs.realpathSync(os.tmpdir()).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return out
    .replace(new RegExp(`${tmpRoot}/kubectl-vm-[A-Za-z0-9_-]+`, 'g'), '<TMP>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<UID>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/g, '<TIME>')
    .replace(/https:\/\/127\.0\.0\.1:\d+/g, 'https://<SERVER>')
    .replace(/"resourceVersion": ?"\d+"/g, '"resourceVersion":"<RV>"')
    .replace(/resourceVersion: "\d+"/g, 'resourceVersion: "<RV>"')
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '<TOKEN>');
}
