// One colour policy, decided once per stream: NO_COLOR (any non-empty value) turns colour off, FORCE_COLOR turns
// it on (or off with 0/false), and otherwise colour follows whether that stream is a terminal.
import type { OutStream } from './io.ts';

export interface Paint {
  readonly enabled: boolean;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function colorEnabled(stream: OutStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.toLowerCase());
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const plain = (s: string) => s;
export const noPaint: Paint = { enabled: false, red: plain, yellow: plain, green: plain, cyan: plain, dim: plain, bold: plain };

/** Loads chalk only when colour is on, so that pipes and CI logs pay nothing for it. */
export async function paintFor(stream: OutStream, env: Readonly<Record<string, string | undefined>>): Promise<Paint> {
  if (!colorEnabled(stream, env)) return noPaint;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { enabled: true, red: c.red, yellow: c.yellow, green: c.green, cyan: c.cyan, dim: c.dim, bold: c.bold };
}
