// --probe of `kubectl vm status`: each recorded VM with an SSH target is asked, read-only, with bounded
// parallelism and a time limit per VM; one that cannot be reached is a row that says so, not a failure.
import type { PluginContext } from '../cli/plugin.ts';
import type { SshArgs, SshLimits } from '../cli/ssh-flags.ts';
import { SshDelivery } from './deliver/ssh.ts';
import type { ProbeResult, VmRecord } from './fleet-status.ts';
import { layoutFor } from './layout.ts';
import { bindingName } from './record.ts';
import { forEachVm, parseSshTarget, VmConnector } from './ssh-connect.ts';
import { driftedFiles, readVmFacts, type VmFacts } from './vm-facts.ts';

const rfc3339 = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function probeResult(r: VmRecord, f: VmFacts): ProbeResult {
  const running = f.proxy === 'active' || f.proxy === 'running';
  const tokenExpires = f.token?.exp ? rfc3339(f.token.exp) : undefined;
  const boundTo = f.token?.['kubernetes.io']?.secret?.name;
  const tokenMatchesRecord = f.token ? tokenExpires === r.tokenExpires && (boundTo === undefined || boundTo === bindingName(r.vm, r.generation)) : false;
  return { reachable: true, proxy: f.proxy, proxyRunning: running, version: f.version, certNotAfter: f.certNotAfter, tokenExpires, tokenMatchesRecord, driftedFiles: driftedFiles(f) };
}

export async function probeVms(ctx: PluginContext, args: SshArgs, limits: SshLimits, records: (VmRecord | undefined)[]): Promise<(ProbeResult | undefined)[]> {
  const targets = records.filter((r): r is VmRecord => !!r?.sshTarget);
  if (targets.length === 0) return records.map(() => undefined);
  const connector = new VmConnector(ctx, args, limits);
  const outcomes = await ctx.step(`Probing ${targets.length} VM${targets.length === 1 ? '' : 's'} over SSH`, async (report) => {
    let finished = 0;
    const out = await forEachVm(ctx, targets, limits.concurrency, async (r) => {
      try {
        const facts = await connector.with(parseSshTarget(r.sshTarget!, 'root'), (session) => readVmFacts(new SshDelivery(session), { layout: layoutFor(r.runtime), runtime: r.runtime }));
        return probeResult(r, facts);
      } finally {
        report(`Probing ${targets.length} VMs over SSH: ${++finished} done`);
      }
    });
    report(`${out.filter((o) => o.ok).length} of ${targets.length} VMs answered`);
    return out;
  });
  const byRecord = new Map(targets.map((r, i) => [r, outcomes[i]!] as const));
  return records.map((r) => {
    const o = r && byRecord.get(r);
    if (!o) return undefined;
    return o.ok ? o.value : { reachable: false, error: o.error.message };
  });
}
