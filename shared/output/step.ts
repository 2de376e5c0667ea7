// Progress for slow steps: an ora spinner when stderr is an interactive terminal, otherwise one plain line per
// finished step ("✔ Service vm/vmhttp created"), so that CI logs stay readable and tests can compare them.
import type { Paint } from './color.ts';
import type { OutStream } from './io.ts';

/** Lets a step replace its label with the outcome, e.g. "Service vm/vmhttp unchanged". */
export type StepReport = (outcome: string) => void;
export type Step = <T>(label: string, task: (report: StepReport) => Promise<T>) => Promise<T>;

export function createStep(stderr: OutStream, paint: Paint, interactive: boolean): Step {
  if (interactive) return spinnerStep(stderr, paint);
  return async (label, task) => {
    let outcome = label;
    try {
      const result = await task((o) => (outcome = o));
      stderr.write(`${paint.green('✔')} ${outcome}\n`);
      return result;
    } catch (err) {
      stderr.write(`${paint.red('✖')} ${label}\n`);
      throw err;
    }
  };
}

/** A terminal with a usable size: at least one column and one row. */
export function hasRealSize(stream: OutStream): boolean {
  return (stream.columns ?? 0) > 0 && (stream.rows ?? 0) > 0;
}

/** The spinners now turning, so that a signal can stop them before the process ends. */
const spinning = new Set<{ stop(): unknown }>();

/** Stops every spinner (clearing its line and showing the cursor again). */
export function stopSpinners(): void {
  for (const s of spinning) s.stop();
  spinning.clear();
}

function spinnerStep(stderr: OutStream, paint: Paint): Step {
  return async (label, task) => {
    const { default: ora } = await import('ora');
    const spinner = ora({ text: label, stream: stderr as NodeJS.WritableStream, discardStdin: false, color: paint.enabled ? 'cyan' : false }).start();
    spinning.add(spinner);
    let outcome = label;
    try {
      const result = await task((o) => {
        outcome = o;
        spinner.text = o;
      });
      spinner.succeed(outcome);
      return result;
    } catch (err) {
      spinner.fail(label);
      throw err;
    } finally {
      spinning.delete(spinner);
    }
  };
}
