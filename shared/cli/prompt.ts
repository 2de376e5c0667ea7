// Asking for a secret on the terminal, without echo. Only when both standard input and standard error are
// terminals: otherwise there is nobody to ask, and the caller says what to do instead.
import type { ReadStream } from 'node:tty';
import type { OutStream } from '../output/io.ts';

export function promptSecret(question: string, stdin: ReadStream, stderr: OutStream): Promise<string | undefined> {
  if (!stdin.isTTY || !stderr.isTTY) return Promise.resolve(undefined);
  stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(answer);
        if (ch === '\u0003') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    const finish = (value: string | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      resolve(value);
    };
    stdin.on('data', onData);
  });
}
