// Seed files: multi-document YAML of Kubernetes objects (a `kind: List` is unpacked).
import fs from 'node:fs';
import yaml from 'js-yaml';

type Obj = Record<string, any>;

export function parseSeed(text: string): Obj[] {
  return (yaml.loadAll(text) as Obj[]).filter((d) => d && typeof d === 'object').flatMap((d) => (d.kind === 'List' ? (d.items as Obj[]) : [d]));
}

export function loadSeed(file: string): Obj[] {
  return parseSeed(fs.readFileSync(file, 'utf8'));
}
