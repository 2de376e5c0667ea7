// The VM-side checks of `kubectl vm doctor`, over SSH and read-only (one command per VM, shared/vm/vm-facts.ts):
// clock skew against the API server, the gateway's 15012 and 15443 from the VM, the runtime, ports 15000-15090,
// the /etc/hosts block, the token, and the iptables backend. An unreachable VM is one failed check.
import type { PluginContext } from '../cli/plugin.ts';
import type { SshArgs, SshLimits } from '../cli/ssh-flags.ts';
import { isIPAddress } from '../kube/names.ts';
import { SshDelivery } from './deliver/ssh.ts';
import type { Check, ClusterFacts } from './doctor-checks.ts';
import { layoutFor } from './layout.ts';
import type { VmRecord } from './record.ts';
import { preflightError } from './runtime/systemd.ts';
import { forEachVm, parseSshTarget, VmConnector } from './ssh-connect.ts';
import { readVmFacts, type VmFacts } from './vm-facts.ts';

const REACH_PORTS = [15012, 15443];

export function vmFactChecks(r: VmRecord, f: VmFacts, o: { serverEpoch?: number; gateway?: string; now: number }): Check[] {
  const target = `${r.namespace}/${r.vm}`;
  const c = (check: string, status: Check['status'], message: string, fix?: string): Check => ({ check, scope: 'vm', target, status, message, ...(fix ? { fix } : {}) });
  const on = `on the VM (ssh ${r.sshTarget})`;
  const out: Check[] = [];

  // Clock skew: istiod checks the token's iat/nbf, and certificates' validity, against its own clock.
  if (f.epoch !== undefined && o.serverEpoch !== undefined) {
    const skew = f.epoch - o.serverEpoch;
    const abs = Math.abs(skew);
    const msg = `the VM's clock is ${abs}s ${skew < 0 ? 'behind' : 'ahead of'} the API server's`;
    out.push(abs <= 10 ? c('clock-skew', 'pass', msg) : c('clock-skew', abs <= 60 ? 'warn' : 'fail', `${msg}: tokens and certificates may be refused as not yet valid or expired`, `${on}: sudo timedatectl set-ntp true`));
  } else out.push(c('clock-skew', 'warn', 'could not compare the clocks (no date on the VM, or no Date header from the API server)', `${on}: date -u`));

  // The gateway's ports, from the VM.
  for (const port of REACH_PORTS) {
    const answer = f.reach[port];
    if (!o.gateway) continue;
    out.push(
      answer === 'ok'
        ? c(`reach-${port}`, 'pass', `the VM reaches the gateway ${o.gateway}:${port}`)
        : c(`reach-${port}`, answer === 'unknown' ? 'warn' : 'fail', answer === 'unknown' ? `cannot test ${o.gateway}:${port} from the VM (no nc, no bash)` : `the VM cannot reach the gateway ${o.gateway}:${port}`, `open ${o.gateway}:${port} from the VM to the gateway (firewall, security group), then test ${on}: nc -z -w 3 ${o.gateway} ${port}`),
    );
  }

  // The runtime.
  const missing = preflightError(r.sshTarget ?? r.vm, f.runtime);
  out.push(missing ? c('runtime', 'fail', missing.message, missing.hint) : c('runtime', 'pass', r.runtime === 'docker' ? 'docker is installed' : 'istio-sidecar is installed, with systemd'));

  // Ports 15000-15090: free, or held by our proxy.
  const held = f.listening
    .split('\n')
    // ss and netstat both put the local address (…:port) before the peer's.
    .map((l) => ({ line: l, port: Number(/:(\d+)$/.exec(l.trim().split(/\s+/).find((t) => /:\d+$/.test(t)) ?? '')?.[1] ?? 0) }))
    .filter((x) => x.port >= 15000 && x.port <= 15090 && !/envoy|pilot-agent/.test(x.line));
  const ports = [...new Set(held.map((h) => h.port))].sort((a, b) => a - b);
  out.push(
    ports.length
      ? c('proxy-ports', 'fail', `port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} ${ports.length > 1 ? 'are' : 'is'} taken by something other than the proxy`, `${on}: sudo ss -ltnp '( sport >= :15000 and sport <= :15090 )'`)
      : c('proxy-ports', 'pass', 'ports 15000-15090 are free or held by the proxy'),
  );

  // The hosts block.
  const layout = layoutFor(r.runtime);
  if (layout.hosts) {
    const lines = f.hosts.split('\n');
    const b = lines.indexOf(layout.hosts.begin);
    const e = lines.indexOf(layout.hosts.end);
    const block = b >= 0 && e > b ? lines.slice(b + 1, e) : undefined;
    if (!block) out.push(c('hosts', 'fail', `/etc/hosts has no kubectl-vm block (${layout.hosts.begin})`, `kubectl vm onboard ${r.sshTarget ?? '<user@host>'} --group ${r.group} -n ${r.namespace}`));
    else if (o.gateway && isIPAddress(o.gateway) && !block.some((l) => l.split(/\s+/)[0] === o.gateway)) {
      out.push(c('hosts', 'fail', `the /etc/hosts block points at ${block.map((l) => l.split(/\s+/)[0]).join(', ')}, not the gateway ${o.gateway}`, `kubectl vm onboard ${r.sshTarget ?? '<user@host>'} --group ${r.group} -n ${r.namespace}`));
    } else out.push(c('hosts', 'pass', `the /etc/hosts block matches the gateway${o.gateway ? ` ${o.gateway}` : ''}`));
  }

  // The token.
  const exp = f.token?.exp;
  if (!f.token) out.push(c('token', 'fail', `there is no token at ${layout.token.agent}`, `kubectl vm token rotate ${r.vm} -n ${r.namespace}`));
  else if (!exp || exp * 1000 <= o.now) out.push(c('token', 'fail', `the token at ${layout.token.agent} has expired`, `kubectl vm token rotate ${r.vm} -n ${r.namespace}`));
  else out.push(c('token', 'pass', `the token is present and valid for ${Math.round((exp * 1000 - o.now) / 3_600_000)}h more`));

  // The iptables backend.
  const backend = /\((nf_tables|legacy)\)/.exec(f.iptables)?.[1];
  out.push(
    f.iptables === 'missing' || f.iptables === ''
      ? c('iptables', 'warn', 'iptables is not installed: the proxy cannot capture traffic', `${on}: sudo apt-get install -y iptables (or dnf install iptables)`)
      : c('iptables', 'pass', `iptables uses the ${backend ?? 'unknown'} backend (${f.iptables.split('\n')[0]})`),
  );
  return out;
}

export async function vmChecks(ctx: PluginContext, args: SshArgs, limits: SshLimits, vms: VmRecord[], facts: ClusterFacts): Promise<Check[]> {
  const targets = vms.filter((r) => r.sshTarget);
  if (targets.length === 0) return [];
  const kube = ctx.kube();
  const serverDate = await kube.serverDate().catch(() => undefined);
  const connector = new VmConnector(ctx, args, limits);
  const gatewayFor = (r: VmRecord) => {
    const network = facts.groups.find((g) => g.name === r.group)?.group?.spec?.template?.network;
    return (facts.gateways.find((g) => g.network === network) ?? facts.gateways[0])?.gateway?.address;
  };
  const outcomes = await forEachVm(ctx, targets, limits.concurrency, async (r) => {
    const gateway = gatewayFor(r);
    const f = await connector.with(parseSshTarget(r.sshTarget!, 'root'), (session) =>
      readVmFacts(new SshDelivery(session), { layout: layoutFor(r.runtime), runtime: r.runtime, gateway: gateway ? { address: gateway, ports: REACH_PORTS } : undefined }),
    );
    const serverEpoch = serverDate ? Math.round(serverDate.getTime() / 1000) : undefined;
    return vmFactChecks(r, f, { serverEpoch, gateway, now: ctx.now().getTime() });
  });
  return outcomes.flatMap((o, i) => {
    const r = targets[i]!;
    if (o.ok) return o.value;
    return [{ check: 'ssh', scope: 'vm' as const, target: `${r.namespace}/${r.vm}`, status: 'fail' as const, message: o.error.message, fix: o.error.hint ?? `check that sshd runs on ${r.sshTarget}` }];
  });
}
