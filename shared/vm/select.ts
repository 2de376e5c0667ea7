// Which VMs a day-2 command works on: named VMs, -l, or --all, in one namespace, as their records.
import { UsageError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { listRecords, type VmRecord } from './record.ts';

export interface Selection {
  vms?: string[];
  selector?: string;
  all?: boolean;
}

/** The records chosen, and the names given that have no record (each becomes a failed row). */
export async function selectRecords(kube: KubeClient, namespace: string, s: Selection, usage: string): Promise<{ records: VmRecord[]; missing: string[] }> {
  const sources = [s.vms?.length && 'VM names', s.selector && '-l', s.all && '--all'].filter(Boolean);
  if (sources.length === 0) throw new UsageError('expecting VM names, -l <selector> or --all', { hint: usage });
  if (sources.length > 1) throw new UsageError(`${sources.join(' and ')} cannot be combined`, { hint: usage });
  const records = await listRecords(kube, namespace, s.selector);
  if (!s.vms?.length) return { records, missing: [] };
  const wanted = [...new Set(s.vms)];
  return { records: records.filter((r) => wanted.includes(r.vm)), missing: wanted.filter((w) => !records.some((r) => r.vm === w)) };
}
