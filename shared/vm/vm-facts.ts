// What the day-2 commands read on a VM, read-only, in one command over SSH: the proxy's state and version, the
// workload certificate, the claims of the token (its middle part only: never the signature, so never a usable
// token), the manifest, the clock, the hosts block, the iptables backend, listening ports, the runtime, and
// whether the gateway's ports answer. `kubectl vm status --probe` and `kubectl vm doctor` share it.
import { X509Certificate } from 'node:crypto';
import { sh } from '../istio/sidecar-bootstrap.ts';
import type { Delivery } from './deliver/types.ts';
import { DOCKER_CONTAINER, type Manifest, type VmLayout } from './layout.ts';
import type { Runtime } from './record.ts';
import { runtimeCommands } from './runtime/index.ts';

const MARK = '@@kubectl-vm:';

export interface FactsOptions {
  layout: VmLayout;
  runtime: Runtime;
  /** Gateway address and ports to try from the VM (doctor). */
  gateway?: { address: string; ports: number[] };
}

/** The script: each section starts with a marker line, so that one exec answers everything. */
export function factsScript(o: FactsOptions): string {
  const rt = runtimeCommands(o.runtime);
  const cert = `${o.layout.workloadCertDir}/cert-chain.pem`;
  const section = (name: string, body: string) => `echo ${sh(MARK + name)}; { ${body}; } 2> /dev/null`;
  const parts = [
    'root="${ROOT:-}"',
    section(
      'proxy',
      o.runtime === 'docker'
        ? `docker inspect -f '{{.State.Status}}' ${DOCKER_CONTAINER} || echo missing`
        : `if ${rt!.status}; then echo active; else s=$(systemctl is-active istio); echo "\${s:-inactive}"; fi`,
    ),
    section('version', o.runtime === 'docker' ? `docker inspect -f '{{.Config.Image}}' ${DOCKER_CONTAINER} | sed 's/.*://'` : 'pilot-agent version --short || pilot-agent version'),
    section('cert', `cat "$root"${sh(cert)}`),
    section('token-claims', `cut -d. -f2 "$root"${sh(o.layout.token.agent)}`),
    section('manifest', `cat "$root"${sh(o.layout.manifest)}`),
    section('date', 'date +%s'),
    section('hosts', `cat "$root${o.layout.hosts?.file ?? '/etc/hosts'}"`),
    section('iptables', 'iptables -V || echo missing'),
    section('listening', 'ss -Hltnp || netstat -ltnp'),
    section('runtime', rt ? rt.preflight : 'echo ok'),
  ];
  if (o.gateway) {
    for (const port of o.gateway.ports) {
      const target = `${sh(o.gateway.address)} ${port}`;
      parts.push(
        section(
          `reach-${port}`,
          `if command -v nc > /dev/null 2>&1; then nc -z -w 3 ${target} && echo ok || echo fail; elif command -v bash > /dev/null 2>&1; then timeout 3 bash -c ${sh(`</dev/tcp/${o.gateway.address}/${port}`)} && echo ok || echo fail; else echo unknown; fi`,
        ),
      );
    }
  }
  return parts.join('\n');
}

export interface TokenClaims {
  exp?: number;
  iat?: number;
  'kubernetes.io'?: { secret?: { name?: string; uid?: string } };
}

export interface VmFacts {
  proxy: string;
  version?: string;
  certNotAfter?: string;
  token?: TokenClaims;
  manifest?: Manifest;
  /** The VM's clock, seconds since the epoch. */
  epoch?: number;
  hosts: string;
  iptables: string;
  listening: string;
  runtime: string;
  reach: Record<number, string>;
  /** sha256 of each manifest file that exists. */
  sums: Map<string, string>;
}

function sections(out: string): Map<string, string> {
  const m = new Map<string, string>();
  let name: string | undefined;
  const lines: string[] = [];
  const flush = () => name !== undefined && m.set(name, lines.join('\n').trim());
  for (const line of out.split('\n')) {
    if (line.startsWith(MARK)) {
      flush();
      name = line.slice(MARK.length);
      lines.length = 0;
    } else lines.push(line);
  }
  flush();
  return m;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function readVmFacts(d: Delivery, o: FactsOptions): Promise<VmFacts> {
  const r = await d.run(factsScript(o));
  const s = sections(r.stdout);
  let certNotAfter: string | undefined;
  const pem = s.get('cert');
  if (pem && pem.includes('BEGIN CERTIFICATE')) {
    try {
      certNotAfter = rfc3339(Date.parse(new X509Certificate(pem).validTo));
    } catch {
      certNotAfter = undefined;
    }
  }
  let token: TokenClaims | undefined;
  try {
    const part = s.get('token-claims');
    token = part ? (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as TokenClaims) : undefined;
  } catch {
    token = undefined;
  }
  let manifest: Manifest | undefined;
  try {
    manifest = s.get('manifest') ? (JSON.parse(s.get('manifest')!) as Manifest) : undefined;
  } catch {
    manifest = undefined;
  }
  const sums = manifest ? await d.sha256(manifest.files.map((f) => f.path)) : new Map<string, string>();
  const reach: Record<number, string> = {};
  for (const [k, v] of s) if (k.startsWith('reach-')) reach[Number(k.slice(6))] = v;
  const epoch = Number(s.get('date'));
  return {
    proxy: (s.get('proxy') ?? '').split('\n')[0] || 'unknown',
    version: s.get('version')?.split('\n')[0] || undefined,
    certNotAfter,
    token,
    manifest,
    epoch: Number.isFinite(epoch) && epoch > 0 ? epoch : undefined,
    hosts: s.get('hosts') ?? '',
    iptables: s.get('iptables') ?? 'missing',
    listening: s.get('listening') ?? '',
    runtime: s.get('runtime') ?? '',
    reach,
    sums,
  };
}

/** Manifest files whose digest differs from what was delivered, or that are gone. */
export function driftedFiles(f: VmFacts): string[] | undefined {
  if (!f.manifest) return undefined;
  return f.manifest.files.filter((x) => f.sums.get(x.path) !== x.sha256).map((x) => x.path);
}
