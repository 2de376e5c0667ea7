// `kubectl vm status`: one row per VM, from the mesh's WorkloadEntries (manual and auto-registered) joined with
// kubectl-vm's records, what needs attention, and the documented JSON form. Pure: the plugin reads the cluster
// (and with --probe the VMs) and hands the objects here.
import type { KubeObject } from '../kube/objects.ts';
import { ageOf, humanDuration } from '../output/age.ts';
import { formatTable } from '../output/table.ts';
import { parseRecord, RECORD_TYPE, type Secret, type VmRecord as Record0 } from './record.ts';

/** A record as status shows it: its fields and when it was created. */
export type VmRecord = Record0 & { createdAt?: string };

/** The records among listed Secrets (managed-by kubectl-vm), with their creation times. */
export function recordsOf(secrets: Secret[]): VmRecord[] {
  return secrets.filter((s) => s.type === RECORD_TYPE).map((s) => ({ ...parseRecord(s), createdAt: s.metadata.creationTimestamp }));
}

/** istiod's annotations on the WorkloadEntries of connected proxies (pilot/pkg/autoregistration). */
export const CONNECTED_AT = 'istio.io/connectedAt';
export const DISCONNECTED_AT = 'istio.io/disconnectedAt';
export const WORKLOAD_CONTROLLER = 'istio.io/workloadController';
export const AUTO_REGISTRATION_GROUP = 'istio.io/autoRegistrationGroup';

export interface WorkloadEntry extends KubeObject {
  spec?: { address?: string; network?: string; serviceAccount?: string; labels?: Record<string, string> };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
}

/** What `--probe` found on one VM, read-only over SSH. */
export interface ProbeResult {
  /** false: the VM could not be reached (error says why); the other fields are then absent. */
  reachable: boolean;
  error?: string;
  /** systemctl is-active istio, or the container's state: active, inactive, running, exited, missing… */
  proxy?: string;
  proxyRunning?: boolean;
  version?: string;
  certNotAfter?: string;
  tokenExpires?: string;
  /** The token on the VM is the one the record knows (same binding and expiry). */
  tokenMatchesRecord?: boolean;
  /** Delivered files whose sha256 differs from the manifest, or that are gone. */
  driftedFiles?: string[];
}

export type AttentionReason =
  | 'token-expiring'
  | 'token-expired'
  | 'token-revoked'
  | 'token-mismatch'
  | 'cert-expiring'
  | 'disconnected'
  | 'unhealthy'
  | 'no-workloadentry'
  | 'no-record'
  | 'drifted'
  | 'proxy-down'
  | 'unreachable';

export interface Attention {
  reason: AttentionReason;
  message: string;
}

/** One row of `kubectl vm status -o json`: the schema is documented in the README ("kubectl vm status"). */
export interface VmStatus {
  namespace: string;
  name: string;
  address: string | null;
  network: string | null;
  group: string | null;
  workloadEntry: { name: string; autoRegistered: boolean } | null;
  record: { name: string; tokenGeneration: number; revokedAt: string | null } | null;
  /** From the WorkloadEntry's Healthy condition: healthy, unhealthy, or unknown (no condition). */
  health: 'healthy' | 'unhealthy' | 'unknown';
  healthMessage: string | null;
  /** From istiod's connectedAt/disconnectedAt annotations; unknown when istiod has not written them. */
  connection: 'connected' | 'disconnected' | 'unknown';
  connectionSince: string | null;
  tokenExpires: string | null;
  sshTarget: string | null;
  runtime: string | null;
  bundleSha256: string | null;
  createdAt: string | null;
  probe: ProbeResult | null;
  attention: Attention[];
}

export interface VmStatusList {
  apiVersion: 'kubectl-vm.io/v1alpha1';
  kind: 'VMStatusList';
  metadata: { generatedAt: string; warnBefore: string };
  items: VmStatus[];
  summary: { total: number; needAttention: number; reasons: Partial<Record<AttentionReason, number>> };
}

const stamp = (o: KubeObject | undefined) => o?.metadata.creationTimestamp ?? null;

function health(we: WorkloadEntry | undefined): Pick<VmStatus, 'health' | 'healthMessage'> {
  const c = we?.status?.conditions?.find((x) => x.type === 'Healthy');
  if (!c) return { health: 'unknown', healthMessage: null };
  return { health: c.status === 'True' ? 'healthy' : 'unhealthy', healthMessage: c.message ?? c.reason ?? null };
}

function connection(we: WorkloadEntry | undefined): Pick<VmStatus, 'connection' | 'connectionSince'> {
  const a = we?.metadata.annotations ?? {};
  const connected = a[CONNECTED_AT];
  const disconnected = a[DISCONNECTED_AT];
  if (disconnected && (!connected || Date.parse(disconnected) >= Date.parse(connected))) return { connection: 'disconnected', connectionSince: disconnected };
  if (connected) return { connection: 'connected', connectionSince: connected };
  return { connection: 'unknown', connectionSince: null };
}

/**
 * Pairs WorkloadEntries with records in each namespace: by name first (a manual entry that onboard created),
 * then by address (an entry istiod auto-registered as <group>-<ip>).
 */
export function joinVms(entries: WorkloadEntry[], records: VmRecord[]): { we?: WorkloadEntry; record?: VmRecord }[] {
  const used = new Set<VmRecord>();
  const key = (ns: string | undefined, name: string | undefined) => `${ns}/${name}`;
  const byName = new Map(records.map((r) => [key(r.namespace, r.vm), r]));
  const rows: { we?: WorkloadEntry; record?: VmRecord }[] = [];
  const sorted = [...entries].sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)));
  // Names first, so that an address match never takes the record a same-named entry owns.
  const pairs = new Map<WorkloadEntry, VmRecord>();
  for (const we of sorted) {
    const r = byName.get(key(we.metadata.namespace, we.metadata.name));
    if (r && !used.has(r)) {
      pairs.set(we, r);
      used.add(r);
    }
  }
  for (const we of sorted) {
    if (pairs.has(we) || !we.spec?.address) continue;
    const r = records.find((x) => !used.has(x) && x.namespace === we.metadata.namespace && x.address === we.spec!.address && (!x.group || !groupOf(we) || x.group === groupOf(we)));
    if (r) {
      pairs.set(we, r);
      used.add(r);
    }
  }
  for (const we of sorted) rows.push({ we, record: pairs.get(we) });
  for (const r of records) if (!used.has(r)) rows.push({ record: r });
  return rows.sort((a, b) => key(nsOf(a), nameOf(a)).localeCompare(key(nsOf(b), nameOf(b))));
}

const groupOf = (we: WorkloadEntry | undefined) => we?.metadata.annotations?.[AUTO_REGISTRATION_GROUP] ?? we?.metadata.labels?.[AUTO_REGISTRATION_GROUP];
const nsOf = (r: { we?: WorkloadEntry; record?: VmRecord }) => r.record?.namespace ?? r.we?.metadata.namespace ?? '';
const nameOf = (r: { we?: WorkloadEntry; record?: VmRecord }) => r.record?.vm ?? r.we?.metadata.name ?? '';

export function buildStatus(pair: { we?: WorkloadEntry; record?: VmRecord }, probe: ProbeResult | undefined, now: Date, warnBeforeMs: number): VmStatus {
  const { we, record } = pair;
  const s: VmStatus = {
    namespace: nsOf(pair),
    name: nameOf(pair),
    address: we?.spec?.address ?? record?.address ?? null,
    network: we?.spec?.network || null,
    group: record?.group || groupOf(we) || null,
    workloadEntry: we ? { name: we.metadata.name!, autoRegistered: groupOf(we) !== undefined } : null,
    record: record ? { name: record.vm, tokenGeneration: record.generation, revokedAt: record.revokedAt ?? null } : null,
    ...health(we),
    ...connection(we),
    tokenExpires: record?.tokenExpires ?? null,
    sshTarget: record?.sshTarget ?? null,
    runtime: record?.runtime ?? null,
    bundleSha256: record?.bundleSha256 ?? null,
    createdAt: record?.createdAt ?? stamp(we),
    probe: probe ?? null,
    attention: [],
  };
  s.attention = attentionOf(s, now, warnBeforeMs);
  return s;
}

function expiring(what: string, reason: AttentionReason, expires: string, now: Date, warnBeforeMs: number): Attention | undefined {
  const left = Date.parse(expires) - now.getTime();
  if (left <= 0) return { reason: reason === 'token-expiring' ? 'token-expired' : reason, message: `${what} expired ${humanDuration(-left)} ago` };
  if (left <= warnBeforeMs) return { reason, message: `${what} expires in ${humanDuration(left)}` };
  return undefined;
}

/** The rules of issue 15 §1: expiring tokens and certificates, lost connections, orphans on either side, drift. */
export function attentionOf(s: VmStatus, now: Date, warnBeforeMs: number): Attention[] {
  const out: (Attention | undefined)[] = [];
  if (s.record?.revokedAt) out.push({ reason: 'token-revoked', message: `token revoked at ${s.record.revokedAt}` });
  else if (s.tokenExpires) out.push(expiring('token', 'token-expiring', s.tokenExpires, now, warnBeforeMs));
  if (s.connection === 'disconnected') out.push({ reason: 'disconnected', message: `disconnected from istiod since ${s.connectionSince}` });
  if (s.health === 'unhealthy') out.push({ reason: 'unhealthy', message: `health check failing${s.healthMessage ? `: ${s.healthMessage}` : ''}` });
  if (!s.workloadEntry) out.push({ reason: 'no-workloadentry', message: 'kubectl-vm has a record of this VM, but the mesh has no WorkloadEntry for it' });
  if (!s.record) out.push({ reason: 'no-record', message: 'no kubectl-vm record: its token cannot be rotated or revoked per VM' });
  const p = s.probe;
  if (p && !p.reachable) out.push({ reason: 'unreachable', message: `probe failed: ${p.error ?? 'unreachable'}` });
  if (p?.reachable) {
    if (p.proxyRunning === false) out.push({ reason: 'proxy-down', message: `the proxy is not running (${p.proxy ?? 'unknown'})` });
    if (p.certNotAfter) out.push(expiring('workload certificate', 'cert-expiring', p.certNotAfter, now, warnBeforeMs));
    if (p.tokenMatchesRecord === false) out.push({ reason: 'token-mismatch', message: 'the token on the VM is not the one the record knows' });
    if (p.driftedFiles?.length) out.push({ reason: 'drifted', message: `changed since delivery: ${p.driftedFiles.join(', ')}` });
  }
  return out.filter((a): a is Attention => a !== undefined);
}

export function statusList(items: VmStatus[], now: Date, warnBefore: string): VmStatusList {
  const reasons: Partial<Record<AttentionReason, number>> = {};
  for (const i of items) for (const a of i.attention) reasons[a.reason] = (reasons[a.reason] ?? 0) + 1;
  return {
    apiVersion: 'kubectl-vm.io/v1alpha1',
    kind: 'VMStatusList',
    metadata: { generatedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), warnBefore },
    items,
    summary: { total: items.length, needAttention: items.filter((i) => i.attention.length).length, reasons },
  };
}

function tokenCell(s: VmStatus, now: Date): string {
  if (s.record?.revokedAt) return 'revoked';
  if (!s.tokenExpires) return '-';
  const left = Date.parse(s.tokenExpires) - now.getTime();
  return left <= 0 ? `expired ${humanDuration(-left)} ago` : `in ${humanDuration(left)}`;
}

function connectedCell(s: VmStatus, now: Date): string {
  if (s.connection === 'unknown') return '-';
  const since = s.connectionSince ? ` (${humanDuration(now.getTime() - Date.parse(s.connectionSince))})` : '';
  return `${s.connection === 'connected' ? 'yes' : 'no'}${since}`;
}

function expiresCell(iso: string | undefined, now: Date): string {
  if (!iso) return '-';
  const left = Date.parse(iso) - now.getTime();
  return left <= 0 ? `expired ${humanDuration(-left)} ago` : `in ${humanDuration(left)}`;
}

export interface TableOptions {
  allNamespaces: boolean;
  wide: boolean;
  probe: boolean;
}

/** The table: NAMESPACE only with -A, as kubectl; -o wide adds SSH, RUNTIME and BUNDLE; --probe the VM's view. */
export function statusTable(list: VmStatusList, now: Date, o: TableOptions): string[] {
  const header = [
    ...(o.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'ADDRESS',
    'NETWORK',
    'GROUP',
    'HEALTH',
    'CONNECTED',
    'TOKEN EXPIRES',
    ...(o.probe ? ['PROXY', 'VERSION', 'CERT EXPIRES', 'FILES'] : []),
    'AGE',
    ...(o.wide ? ['SSH', 'RUNTIME', 'BUNDLE'] : []),
    'ATTENTION',
  ];
  const rows = list.items.map((s) => {
    const p = s.probe;
    const probeCells = !p
      ? ['-', '-', '-', '-']
      : !p.reachable
        ? ['unreachable', '-', '-', '-']
        : [p.proxy ?? '-', p.version ?? '-', expiresCell(p.certNotAfter, now), p.driftedFiles === undefined ? '-' : p.driftedFiles.length ? `drifted (${p.driftedFiles.length})` : 'ok'];
    return [
      ...(o.allNamespaces ? [s.namespace] : []),
      s.name,
      s.address ?? '-',
      s.network ?? '-',
      s.group ?? '-',
      s.health === 'unknown' ? '-' : s.health,
      connectedCell(s, now),
      tokenCell(s, now),
      ...(o.probe ? probeCells : []),
      s.createdAt ? ageOf(s.createdAt, now) : '<unknown>',
      ...(o.wide ? [s.sshTarget ?? '-', s.runtime ?? '-', s.bundleSha256 ? s.bundleSha256.slice(0, 12) : '-'] : []),
      s.attention.length ? s.attention.map((a) => a.reason).join(',') : '-',
    ];
  });
  return formatTable(header, rows);
}

/** The closing lines (stderr): how many VMs need attention, and why, one line each. */
export function attentionSummary(list: VmStatusList): string[] {
  if (list.summary.needAttention === 0) return [];
  const lines = [`${list.summary.needAttention} of ${list.summary.total} VMs need attention:`];
  for (const s of list.items) for (const a of s.attention) lines.push(`  ${s.namespace}/${s.name}: ${a.message}`);
  return lines;
}
