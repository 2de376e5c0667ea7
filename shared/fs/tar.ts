// A gzipped tar (ustar) of in-memory files, for `--bundle FILE.tgz`: regular files and their directories,
// with their modes, owned by root, dated at a fixed time so that the same files give the same archive bytes.
import zlib from 'node:zlib';
import type { FileToWrite } from './write.ts';

const BLOCK = 512;

function header(name: string, size: number, mode: number, type: '0' | '5', mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: the path ${name} is longer than 100 bytes`);
  const h = Buffer.alloc(BLOCK, 0);
  const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'utf8');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put('root', 265, 32);
  put('root', 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

export function tarGz(files: FileToWrite[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const segments = f.name.split('/');
    for (let i = 1; i < segments.length; i++) {
      const d = `${segments.slice(0, i).join('/')}/`;
      if (!dirs.has(d)) {
        dirs.add(d);
        parts.push(header(d, 0, 0o700, '5', mtime));
      }
    }
    const body = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8');
    parts.push(header(f.name, body.length, f.mode, '0', mtime), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return zlib.gzipSync(Buffer.concat(parts), { level: 9 });
}
