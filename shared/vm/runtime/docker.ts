// The docker runtime: Istio's proxy image with host networking, as sidecar-bootstrap runs it, with the files
// of the docker layout (layout.ts) mounted read-only. The container restarts with the machine, and its files
// are on persistent storage, so a reboot changes nothing.
import { sh } from '../../istio/sidecar-bootstrap.ts';
import { DOCKER_CONTAINER, dockerLayout } from '../layout.ts';
import type { RuntimeCommands } from './types.ts';

export interface DockerRun {
  image: string;
  container?: string;
  dir?: string;
  /** `name:ip` entries (from the bundle's hosts file). */
  addHosts: string[];
}

/** `--add-host` entries for the lines of a hosts file (`ip name…`). */
export function addHostsFrom(hosts: string): string[] {
  const out: string[] = [];
  for (const line of hosts.split('\n')) {
    const [ip, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!ip) continue;
    for (const n of names) out.push(`${n}:${ip}`);
  }
  return out;
}

/**
 * `docker run` for the proxy: cluster.env is sourced by bash inside the container (docker's --env-file would
 * keep its shell quotes), the root certificate and the token are mounted where pilot-agent reads them with
 * PILOT_CERT_PROVIDER=istiod and JWT_POLICY=third-party-jwt, and mesh.yaml where it reads the mesh config.
 */
export function dockerRunCommand(r: DockerRun): string {
  const dir = r.dir ?? dockerLayout().dirs[1]!.path;
  const name = r.container ?? DOCKER_CONTAINER;
  return [
    'docker run -d',
    `--name ${sh(name)}`,
    '--restart unless-stopped --network host',
    `-v ${sh(`${dir}/istio-ca.pem`)}:/var/run/secrets/istio/root-cert.pem:ro`,
    `-v ${sh(`${dir}/istio-token`)}:/var/run/secrets/tokens/istio-token:ro`,
    `-v ${sh(`${dir}/cluster.env`)}:/var/lib/istio/envoy/cluster.env:ro`,
    `-v ${sh(`${dir}/mesh.yaml`)}:/etc/istio/config/mesh:ro`,
    ...r.addHosts.map((h) => `--add-host ${sh(h)}`),
    '--entrypoint /bin/bash',
    sh(r.image),
    '-c',
    sh('set -a && . /var/lib/istio/envoy/cluster.env && set +a && exec /usr/local/bin/pilot-agent proxy sidecar'),
  ].join(' ');
}

export function dockerCommands(r: DockerRun): RuntimeCommands {
  const name = sh(r.container ?? DOCKER_CONTAINER);
  const run = dockerRunCommand(r);
  return {
    runtime: 'docker',
    preflight: 'if command -v docker > /dev/null 2>&1; then echo ok; else echo "missing docker"; fi',
    start: `if [ "$(docker inspect -f '{{.State.Running}}' ${name} 2> /dev/null)" = true ]; then :; else docker rm --force ${name} > /dev/null 2>&1 || true; ${run}; fi`,
    restart: `docker rm --force ${name} > /dev/null 2>&1 || true; ${run}`,
    stop: `docker rm --force ${name}`,
    status: `[ "$(docker inspect -f '{{.State.Running}}' ${name} 2> /dev/null)" = true ]`,
    uninstall: `docker rm --force ${name} > /dev/null 2>&1 || true`,
    workloadCertDir: dockerLayout(r.dir).workloadCertDir,
  };
}

/** Makes files readable by the proxy (uid 1337) while they stay 0600/0700: for sidecar-bootstrap's directory. */
export function chownForProxy(dir: string, files: string[]): string {
  return `chown 1337:1337 ${[dir, ...files.map((f) => `${dir}/${f}`)].map(sh).join(' ')}`;
}
