#!/usr/bin/env node
// Rewrites package.json "bin" from shared/cli/catalog.ts: the router, every command's executable, and kubectl's
// completion hook for each. Run it after adding a command; a test checks that bin matches the build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogNames, executableOf, hookOf } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const executables = ['kubectl-vm', ...catalogNames().map(executableOf)];
const bin = {};
for (const exe of [...executables, ...executables.map(hookOf)]) bin[exe] = `dist/${exe}`;
const file = path.join(root, 'package.json');
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
pkg.bin = bin;
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.error(`package.json bin: ${Object.keys(bin).length} executables`);
