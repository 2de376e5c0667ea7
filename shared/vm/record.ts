// The VM's record in the cluster (VM-CONTRACT.md): one Secret per VM that holds no secret data, only who the VM
// is (labels) and what was done to it (annotations); and one binding Secret per token generation, owned by the
// record, that every token minted for the VM is bound to (TokenRequest boundObjectRef). Deleting a binding, or
// the record (the garbage collector then deletes its bindings), invalidates the tokens bound to it at once.
// Pure builders first, then small I/O helpers. No token ever reaches a log line.
import { CliError, ExitCode, UsageError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { ApiError, isAlreadyExists, isNotFound } from '../kube/errors.ts';
import { isManaged, MANAGED_BY_LABEL, MANAGER, type KubeObject } from '../kube/objects.ts';

export const RECORD_TYPE = 'kubectl-vm.io/vm-record';
export const BINDING_TYPE = 'kubectl-vm.io/vm-token-binding';
/** The audience istiod's CA accepts (JWT_POLICY=third-party-jwt). */
export const TOKEN_AUDIENCE = 'istio-ca';

export const LABELS = {
  vm: 'kubectl-vm.io/vm',
  group: 'kubectl-vm.io/group',
  generation: 'kubectl-vm.io/generation',
} as const;

export const ANNOTATIONS = {
  address: 'kubectl-vm.io/address',
  sshTarget: 'kubectl-vm.io/ssh-target',
  runtime: 'kubectl-vm.io/runtime',
  tokenGeneration: 'kubectl-vm.io/token-generation',
  tokenExpires: 'kubectl-vm.io/token-expires',
  bundleSha256: 'kubectl-vm.io/bundle-sha256',
  revokedAt: 'kubectl-vm.io/revoked-at',
  serviceAccount: 'kubectl-vm.io/service-account',
} as const;

export type Runtime = 'systemd' | 'docker' | 'none';
export const RUNTIMES: readonly Runtime[] = ['systemd', 'docker', 'none'];

export type Secret = KubeObject & { type?: string; data?: Record<string, string> };

/** What the cluster remembers of a VM, read from its record. */
export interface VmRecord {
  vm: string;
  namespace: string;
  group: string;
  serviceAccount: string;
  runtime: Runtime;
  /** The VM's IP, as its WorkloadEntry has it; may be empty (auto-registration picks it). */
  address?: string;
  /** `user@host:port`; absent for bundles delivered to a directory or an archive. */
  sshTarget?: string;
  /** The current token generation; 0 before the first token. */
  generation: number;
  tokenExpires?: string;
  bundleSha256?: string;
  revokedAt?: string;
  uid?: string;
  resourceVersion?: string;
}

/** The inputs of a record: who the VM is and what was delivered (the generation defaults to 0). */
export type RecordInput = Omit<VmRecord, 'generation' | 'revokedAt' | 'uid' | 'resourceVersion'> & { generation?: number };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A VM name is a DNS-1123 label (it names Secrets `<vm>` and `<vm>-token-<gen>`, so at most 48 characters). */
export function checkVmName(name: string, where = 'VM name'): string {
  if (!DNS_LABEL.test(name) || name.length > 48) {
    throw new UsageError(`invalid ${where} "${name}": expected lower-case letters, digits and '-', starting and ending with a letter or digit, at most 48 characters`, {
      hint: 'e.g. name=web-1 in the hosts file, or --vm web-1',
    });
  }
  return name;
}

/** The VM name kubectl-vm picks for a host when none is given: the host, lower-cased, other characters as '-'. */
export function vmNameForHost(host: string): string {
  const name = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return name || 'vm';
}

export const bindingName = (vm: string, generation: number) => `${vm}-token-${generation}`;

export const recordRef = (vm: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Secret', name: vm, namespace });

/** The record Secret: no data, the VM's identity in labels, the rest in annotations (all strings). */
export function buildRecord(input: RecordInput): Secret {
  const annotations: Record<string, string> = {
    [ANNOTATIONS.runtime]: input.runtime,
    [ANNOTATIONS.serviceAccount]: input.serviceAccount,
    [ANNOTATIONS.tokenGeneration]: String(input.generation ?? 0),
  };
  if (input.address) annotations[ANNOTATIONS.address] = input.address;
  if (input.sshTarget) annotations[ANNOTATIONS.sshTarget] = input.sshTarget;
  if (input.tokenExpires) annotations[ANNOTATIONS.tokenExpires] = input.tokenExpires;
  if (input.bundleSha256) annotations[ANNOTATIONS.bundleSha256] = input.bundleSha256;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: RECORD_TYPE,
    metadata: {
      name: input.vm,
      namespace: input.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER, [LABELS.vm]: input.vm, [LABELS.group]: input.group },
      annotations,
    },
  };
}

/** The binding Secret of one token generation, owned by the record (so the garbage collector follows it). */
export function buildBinding(record: Secret, generation: number): Secret {
  const vm = record.metadata.name!;
  if (!record.metadata.uid) throw new Error(`buildBinding: the record ${vm} has no uid; create or read it first`);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: BINDING_TYPE,
    metadata: {
      name: bindingName(vm, generation),
      namespace: record.metadata.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER, [LABELS.vm]: vm, [LABELS.generation]: String(generation) },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: vm, uid: record.metadata.uid, blockOwnerDeletion: false }],
    },
  };
}

/** The record's fields; an object that is not a kubectl-vm record is refused, naming it. */
export function parseRecord(secret: Secret): VmRecord {
  const name = secret.metadata.name!;
  const namespace = secret.metadata.namespace!;
  if (secret.type !== RECORD_TYPE || !isManaged(secret)) {
    throw new CliError(`secret ${namespace}/${name} exists and is not a kubectl-vm VM record`, ExitCode.general, {
      hint: `name the VM differently (name=<vm> in the hosts file, or --vm), or remove that secret: kubectl delete secret ${name} -n ${namespace}`,
    });
  }
  const a = secret.metadata.annotations ?? {};
  const runtime = (RUNTIMES as readonly string[]).includes(a[ANNOTATIONS.runtime] ?? '') ? (a[ANNOTATIONS.runtime] as Runtime) : 'none';
  const generation = Number(a[ANNOTATIONS.tokenGeneration] ?? '0');
  return {
    vm: name,
    namespace,
    group: secret.metadata.labels?.[LABELS.group] ?? '',
    serviceAccount: a[ANNOTATIONS.serviceAccount] ?? 'default',
    runtime,
    address: a[ANNOTATIONS.address],
    sshTarget: a[ANNOTATIONS.sshTarget],
    generation: Number.isInteger(generation) && generation >= 0 ? generation : 0,
    tokenExpires: a[ANNOTATIONS.tokenExpires],
    bundleSha256: a[ANNOTATIONS.bundleSha256],
    revokedAt: a[ANNOTATIONS.revokedAt],
    uid: secret.metadata.uid,
    resourceVersion: secret.metadata.resourceVersion,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// I/O

export async function readRecordSecret(kube: KubeClient, namespace: string, vm: string): Promise<Secret | undefined> {
  return kube.get<Secret>(recordRef(vm, namespace));
}

/** The VM's record, or undefined when there is none; a Secret of that name that is not ours is an error. */
export async function readRecord(kube: KubeClient, namespace: string, vm: string): Promise<VmRecord | undefined> {
  const secret = await readRecordSecret(kube, namespace, vm);
  return secret ? parseRecord(secret) : undefined;
}

/** Every record in a namespace ('' for all), optionally narrowed by a label selector (e.g. kubectl-vm.io/group=web). */
export async function listRecords(kube: KubeClient, namespace: string, labelSelector?: string): Promise<VmRecord[]> {
  const selector = [`${MANAGED_BY_LABEL}=${MANAGER}`, labelSelector].filter(Boolean).join(',');
  const secrets = await kube.list<Secret>('v1', 'Secret', { namespace, labelSelector: selector });
  return secrets
    .filter((s) => s.type === RECORD_TYPE)
    .map(parseRecord)
    .sort((a, b) => (a.namespace + '/' + a.vm < b.namespace + '/' + b.vm ? -1 : 1));
}

/**
 * Creates the record, or updates the labels and annotations of ours (other annotations stay). Returns the
 * stored Secret and whether this call created it (a caller that fails later deletes what it created).
 */
export async function ensureRecord(kube: KubeClient, input: RecordInput): Promise<{ secret: Secret; created: boolean }> {
  checkVmName(input.vm);
  const want = buildRecord(input);
  const existing = await readRecordSecret(kube, input.namespace, input.vm);
  if (!existing) {
    try {
      return { secret: await kube.create(want), created: true };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return ensureRecord(kube, input);
    }
  }
  const current = parseRecord(existing);
  if (current.group && current.group !== input.group) {
    throw new CliError(`VM ${input.namespace}/${input.vm} is already recorded in WorkloadGroup ${current.group}, not ${input.group}`, ExitCode.general, {
      hint: `offboard it first (kubectl vm offboard ${input.vm} -n ${input.namespace}), or give this host another name`,
    });
  }
  // Keep the generation, expiry and digest the record has unless the caller says otherwise.
  const annotations = { ...existing.metadata.annotations, ...want.metadata.annotations };
  if (input.generation === undefined) annotations[ANNOTATIONS.tokenGeneration] = String(current.generation);
  const labels = { ...existing.metadata.labels, ...want.metadata.labels };
  if (sameStrings(annotations, existing.metadata.annotations) && sameStrings(labels, existing.metadata.labels)) return { secret: existing, created: false };
  const updated = await kube.replace<Secret>({ ...existing, metadata: { ...existing.metadata, labels, annotations } });
  return { secret: updated, created: false };
}

/** Sets annotations on the record (a merge patch: other fields stay); undefined removes one. */
export async function annotateRecord(kube: KubeClient, namespace: string, vm: string, annotations: Record<string, string | null>): Promise<Secret> {
  return kube.mergePatch<Secret>(recordRef(vm, namespace), { metadata: { annotations } });
}

/** Creates the binding Secret of `generation` (an existing one of ours is reused). */
export async function createBinding(kube: KubeClient, record: Secret, generation: number): Promise<Secret> {
  const binding = buildBinding(record, generation);
  try {
    return await kube.create(binding);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const existing = await kube.get<Secret>({ apiVersion: 'v1', kind: 'Secret', name: binding.metadata.name!, namespace: binding.metadata.namespace });
    const owner = (existing?.metadata.ownerReferences as { uid?: string }[] | undefined)?.[0]?.uid;
    if (!existing || existing.type !== BINDING_TYPE || owner !== record.metadata.uid) {
      throw new CliError(`secret ${binding.metadata.namespace}/${binding.metadata.name} exists and is not a token binding of this VM record`, ExitCode.general, {
        hint: `remove it: kubectl delete secret ${binding.metadata.name} -n ${binding.metadata.namespace}`,
      });
    }
    return existing;
  }
}

export interface BoundToken {
  token: string;
  /** RFC 3339 UTC, as the API server says. */
  expires: string;
}

/** A token of the VM's service account for istiod's CA, bound to `binding`: it dies with that Secret. */
export async function mintBoundToken(kube: KubeClient, binding: Secret, serviceAccount: string, seconds: number): Promise<BoundToken> {
  const namespace = binding.metadata.namespace!;
  try {
    const tr = await kube.createToken(namespace, serviceAccount, {
      audiences: [TOKEN_AUDIENCE],
      expirationSeconds: seconds,
      boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: binding.metadata.name!, uid: binding.metadata.uid },
    });
    return { token: tr.status.token, expires: tr.status.expirationTimestamp };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const missingSa = err.code === 404 && /serviceaccounts/.test(err.message);
    const hint = missingSa ? `create it: kubectl create serviceaccount ${serviceAccount} -n ${namespace}` : err.hint;
    throw new CliError(`could not create a token under service account ${serviceAccount} in namespace ${namespace}: ${err.message}`, err.exitCode, { hint, details: err.details, cause: err });
  }
}

/** The VM's binding Secrets, oldest generation first. */
export async function listBindings(kube: KubeClient, namespace: string, vm: string): Promise<Secret[]> {
  const found = await kube.list<Secret>('v1', 'Secret', { namespace, labelSelector: `${MANAGED_BY_LABEL}=${MANAGER},${LABELS.vm}=${vm},${LABELS.generation}` });
  return found.filter((s) => s.type === BINDING_TYPE).sort((a, b) => generationOf(a) - generationOf(b));
}

export const generationOf = (binding: Secret) => Number(binding.metadata.labels?.[LABELS.generation] ?? '0');

/** Deletes the VM's bindings (all, or those older than `keepFrom`): their tokens stop working. Returns their names. */
export async function deleteBindings(kube: KubeClient, namespace: string, vm: string, keepFrom?: number): Promise<string[]> {
  const gone: string[] = [];
  for (const b of await listBindings(kube, namespace, vm)) {
    if (keepFrom !== undefined && generationOf(b) >= keepFrom) continue;
    if (await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: b.metadata.name!, namespace }, { uid: b.metadata.uid })) gone.push(b.metadata.name!);
  }
  return gone;
}

/** Deletes the record (and, explicitly, its bindings: the garbage collector would, a moment later). */
export async function deleteRecord(kube: KubeClient, namespace: string, vm: string): Promise<boolean> {
  await deleteBindings(kube, namespace, vm);
  const secret = await readRecordSecret(kube, namespace, vm);
  if (!secret) return false;
  parseRecord(secret);
  return kube.delete(recordRef(vm, namespace), { uid: secret.metadata.uid });
}

/** True when the binding of the record's current generation still exists (its tokens can still work). */
export async function bindingExists(kube: KubeClient, record: VmRecord): Promise<boolean> {
  if (record.generation < 1) return false;
  try {
    return (await kube.get<Secret>({ apiVersion: 'v1', kind: 'Secret', name: bindingName(record.vm, record.generation), namespace: record.namespace })) !== undefined;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function sameStrings(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a![k] === b?.[k]);
}
