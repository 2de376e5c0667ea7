// The runtime of a VM by name.
import type { Runtime } from '../record.ts';
import { dockerCommands, type DockerRun } from './docker.ts';
import { systemdCommands } from './systemd.ts';
import type { RuntimeCommands } from './types.ts';

export type { RuntimeCommands } from './types.ts';

/** The commands of a runtime; docker needs the image and hosts of its `docker run` (status/stop do not use them). */
export function runtimeCommands(runtime: Runtime, docker: DockerRun = { image: 'docker.io/istio/proxyv2', addHosts: [] }): RuntimeCommands | undefined {
  if (runtime === 'systemd') return systemdCommands();
  if (runtime === 'docker') return dockerCommands(docker);
  return undefined;
}
