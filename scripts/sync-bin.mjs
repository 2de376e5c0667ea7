#!/usr/bin/env node
// Rewrites package.json "bin" from shared/cli/catalog.ts: the router, every command's executable, and kubectl's
// completion hook for each. Run it after adding a command; a test checks that bin matches the build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = fs.readFileSync(path.join(root, 'shared/cli/catalog.ts'), 'utf8');
const names = [...src.matchAll(/\{ name: '([^']+)'/g)].map((m) => m[1]);
const executables = ['kubectl-vm', ...names.map((n) => ['kubectl', 'vm', ...n.split(' ').map((w) => w.replace(/-/g, '_'))].join('-'))];
const bin = {};
for (const exe of [...executables, ...executables.map((e) => e.replace(/^kubectl-/, 'kubectl_complete-'))]) bin[exe] = `dist/${exe}`;
const file = path.join(root, 'package.json');
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
pkg.bin = bin;
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.error(`package.json bin: ${Object.keys(bin).length} executables`);
