// What every runtime gives the commands that drive a VM: shell commands, to run as root on the VM.
import type { Runtime } from '../record.ts';

export interface RuntimeCommands {
  runtime: Runtime;
  /** Prints `ok`, or `missing <what>` when the VM lacks what this runtime needs (exit 0 either way). */
  preflight: string;
  /** Starts the proxy if it is not running, and makes it start at boot. */
  start: string;
  /** Restarts the proxy (after its files changed), and makes it start at boot. */
  restart: string;
  /** Stops the proxy and keeps it from starting at boot. */
  stop: string;
  /** Exits 0 when the proxy runs. */
  status: string;
  /** Removes what the runtime added besides the manifest's files (container, unit drop-in). */
  uninstall: string;
  /** Where the agent writes the workload certificate. */
  workloadCertDir: string;
}
