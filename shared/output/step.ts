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

function spinnerStep(stderr: OutStream, paint: Paint): Step {
  return async (label, task) => {
    const { default: ora } = await import('ora');
    const spinner = ora({ text: label, stream: stderr as NodeJS.WritableStream, discardStdin: false, color: paint.enabled ? 'cyan' : false }).start();
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
    }
  };
}
