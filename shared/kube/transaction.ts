// A multi-object change either completes or restores what it touched (the house rule for writes).
//
//   const result = await transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, async (tx) => {
//     const svc = await ensure(tx, buildService(spec));      // tx reads and writes like a KubeClient …
//     const se = await ensure(tx, buildServiceEntry(spec));  // … and records every object it writes
//     return { svc, se };
//   });
//
// Inside `work`, use `tx` wherever a KubeClient would go (ensure, reconcile, deleteChecked, …): it has the same
// get/list/create/replace/delete. Before each write it records the object's state as last read (or "absent"), so
// a write whose answer was lost (a dropped connection, a 5xx after the commit) is covered too. When `work` throws,
// every recorded object is read again and put back, newest first: what this run created is deleted, what it
// changed is restored to the version it read, what it deleted is created again. Objects someone else changed
// since are left alone. If putting something back fails, the error gets one line per object left changed, with
// the command that undoes it, and a last line with `rerun`, the command that finishes the job.
//
// What this run created carries the annotation kubectl-vm.io/created-by-run: <run id>. That is how a rollback
// recognises its own object when the create's answer was lost and the retried POST met 409 AlreadyExists.
import crypto from 'node:crypto';
import { CliError } from '../errors.ts';
import type { Logger } from '../output/logger.ts';
import type { DeletePreconditions, KubeClient, ListOptions } from './client.ts';
import { kubectlResource } from './ensure.ts';
import { isAlreadyExists, isConflict, isNotFound, isUnapplied } from './errors.ts';
import { describeRef, isSubset, refOf, type KubeObject, type ObjectRef } from './objects.ts';
import { groupOf, resourceType } from './resources.ts';

/** The reads and writes that ensure(), reconcile() and the registration store need: a KubeClient or a Transaction. */
export type ObjectApi = Pick<KubeClient, 'get' | 'list' | 'create' | 'replace' | 'delete'>;

export const RUN_ANNOTATION = 'kubectl-vm.io/created-by-run';

export interface TransactionOptions {
  log: Logger;
  /** The command that finishes the job when a rollback cannot: usually the same command line, run again. */
  rerun: string;
}

/** Runs `work` against a Transaction; if it throws, rolls back what it wrote, then rethrows. */
export async function transaction<T>(kube: KubeClient, options: TransactionOptions, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const tx = new Transaction(kube, options);
  try {
    return await work(tx);
  } catch (err) {
    await tx.rollBack(err);
    throw err;
  }
}

interface Entry {
  ref: ObjectRef;
  /** The object as it was before this run wrote it; undefined when it did not exist. */
  before?: KubeObject;
  /** The last body this run sent for it (undefined for a delete). */
  wrote?: KubeObject;
  /** What the API answered to that write, when an answer came. */
  after?: KubeObject;
  /** Whether the last write (or delete) was answered with success: otherwise it may or may not have happened. */
  done?: boolean;
}

const SERVER_FIELDS = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp', 'selfLink'];

export class Transaction implements ObjectApi {
  readonly runId = crypto.randomUUID();
  private readonly entries = new Map<string, Entry>();
  /** Every object this run has read or written, as last seen, by key. */
  private readonly seen = new Map<string, KubeObject>();

  constructor(
    readonly kube: KubeClient,
    private readonly options: TransactionOptions,
  ) {}

  get namespace(): string {
    return this.kube.namespace;
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const obj = await this.kube.get<T>(ref);
    if (obj) this.remember(obj);
    else this.seen.delete(this.key(ref));
    return obj;
  }

  async list<T extends KubeObject>(apiVersion: string, kind: string, options?: ListOptions): Promise<T[]> {
    const items = await this.kube.list<T>(apiVersion, kind, options);
    for (const item of items) this.remember(item);
    return items;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const ref = refOf(obj);
    const entry = this.entryFor(ref, this.seen.get(this.key(ref)));
    const body = this.live ? { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, [RUN_ANNOTATION]: this.runId } } } : obj;
    return this.write(entry, body, () => this.kube.create(body));
  }

  async replace<T extends KubeObject>(obj: T): Promise<T> {
    const ref = refOf(obj);
    const key = this.key(ref);
    const latest = this.seen.get(key) ?? (this.live ? await this.get(ref) : undefined);
    const entry = this.entries.get(key);
    // Someone else's version since our last write (or before our first) is the one to go back to.
    if (!entry) this.entryFor(ref, latest);
    else if (latest && !this.isOurs(entry, latest)) entry.before = latest;
    return this.write(this.entries.get(key)!, obj, () => this.kube.replace(obj));
  }

  /** One write of an entry: pending (what was sent) until the answer comes, then done with what the server kept. */
  private async write<T extends KubeObject>(entry: Entry, body: T, send: () => Promise<T>): Promise<T> {
    const result = await this.send(entry, body, send);
    entry.after = result;
    entry.done = true;
    this.remember(result);
    return result;
  }

  async delete(ref: ObjectRef, preconditions?: DeletePreconditions): Promise<boolean> {
    const key = this.key(ref);
    const latest = this.seen.get(key) ?? (this.live ? await this.get(ref) : undefined);
    const entry = this.entryFor(ref, latest);
    if (latest && entry.before && !this.isOurs(entry, latest)) entry.before = latest;
    const existed = await this.send(entry, undefined, () => this.kube.delete(ref, preconditions));
    entry.done = true;
    this.seen.delete(key);
    return existed;
  }

  /**
   * Sends a write (`wrote` is its body, undefined for a delete) with the entry pending until the answer comes. One
   * the server certainly did not act on (see isUnapplied) leaves the entry as it was before, and an entry it would
   * have been the first write of is forgotten: there is nothing of it to put back or report.
   */
  private async send<R>(entry: Entry, wrote: KubeObject | undefined, request: () => Promise<R>): Promise<R> {
    const prior = { wrote: entry.wrote, after: entry.after, done: entry.done };
    entry.wrote = wrote;
    entry.after = undefined;
    entry.done = false;
    try {
      return await request();
    } catch (err) {
      if (isUnapplied(err)) {
        if (prior.done === undefined) this.entries.delete(this.key(entry.ref));
        else Object.assign(entry, prior);
      }
      throw err;
    }
  }

  /** Puts back every object this run wrote, newest first; what cannot be put back is added to `failure`. */
  async rollBack(failure: unknown): Promise<void> {
    if (!this.live) return;
    const left: string[] = [];
    for (const entry of [...this.entries.values()].reverse()) {
      try {
        const done = await this.undo(entry);
        if (done) this.options.log.note(`rolled back: ${done}`);
      } catch (err) {
        const message = (err as Error).message;
        left.push(this.leftChanged(entry, message === (failure as Error)?.message ? 'the same error' : message));
      }
    }
    if (left.length === 0) return;
    const lines = [...left, `to finish the job instead, run the same command again: ${this.options.rerun}`];
    if (failure instanceof CliError) failure.details.push(...lines);
    else for (const l of lines) this.options.log.warn(l);
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Whether writes reach the cluster: nothing to record or roll back in a dry run. */
  private get live(): boolean {
    return this.kube.dryRun === 'none';
  }

  private key(ref: ObjectRef): string {
    const type = resourceType(ref.apiVersion, ref.kind);
    const ns = type.namespaced ? (ref.namespace ?? this.kube.namespace) : '';
    return `${groupOf(ref.apiVersion)}/${ref.kind}/${ns}/${ref.name}`;
  }

  private remember(obj: KubeObject): void {
    this.seen.set(this.key(refOf(obj)), obj);
  }

  /** The entry of an object; the first write records the state to go back to. */
  private entryFor(ref: ObjectRef, before: KubeObject | undefined): Entry {
    const key = this.key(ref);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { ref: { ...ref, namespace: ref.namespace ?? (resourceType(ref.apiVersion, ref.kind).namespaced ? this.kube.namespace : undefined) }, before };
      if (this.live) this.entries.set(key, entry);
    }
    return entry;
  }

  /** Whether `obj` is this run's doing: created by it, or carrying what it last wrote. */
  private isOurs(entry: Entry, obj: KubeObject): boolean {
    if (obj.metadata.annotations?.[RUN_ANNOTATION] === this.runId) return true;
    if (entry.after && obj.metadata.resourceVersion === entry.after.metadata.resourceVersion) return true;
    return entry.wrote !== undefined && isSubset(content(entry.wrote), content(obj));
  }

  /** Puts one object back; returns what was done, or undefined when nothing had to be. */
  private async undo(entry: Entry): Promise<string | undefined> {
    const { ref, before } = entry;
    const current = await this.kube.get<KubeObject>(ref);
    const what = describeRef(ref);
    if (!before) {
      // Created (or meant to be) by this run: delete it if it is ours, exactly that object.
      if (!current || current.metadata.annotations?.[RUN_ANNOTATION] !== this.runId) return undefined;
      await this.kube.delete(ref, { uid: current.metadata.uid });
      return `deleted ${what}, which this run had created`;
    }
    if (!current) {
      await this.recreate(before);
      return `created ${what} again, which this run had deleted`;
    }
    if (current.metadata.uid !== before.metadata.uid) {
      if (current.metadata.annotations?.[RUN_ANNOTATION] !== this.runId) throw new Error('it was deleted and created again by someone else meanwhile');
      await this.kube.delete(ref, { uid: current.metadata.uid });
      await this.recreate(before);
      return `put back ${what} as it was`;
    }
    if (sameContent(current, before)) return undefined;
    if (!this.isOurs(entry, current)) throw new Error('someone else changed it after this run did');
    await this.kube.replace({ ...before, metadata: { ...before.metadata, resourceVersion: current.metadata.resourceVersion, managedFields: undefined } });
    return `restored ${what} to the version this run had read`;
  }

  /** Creates a deleted object again, as it was; a Service whose cluster IP was taken meanwhile gets a new one. */
  private async recreate(before: KubeObject): Promise<void> {
    const metadata = Object.fromEntries(Object.entries(before.metadata).filter(([k]) => !SERVER_FIELDS.includes(k)));
    const { status: _status, ...body } = before;
    try {
      await this.kube.create({ ...body, metadata } as KubeObject);
    } catch (err) {
      if (isAlreadyExists(err)) throw new Error('someone else created it again meanwhile');
      const spec = body.spec as Record<string, unknown> | undefined;
      if (isNotFound(err) || isConflict(err) || before.kind !== 'Service' || !spec?.clusterIP) throw err;
      const { clusterIP: _ip, clusterIPs: _ips, ...rest } = spec;
      await this.kube.create({ ...body, metadata, spec: rest } as KubeObject);
    }
  }

  /**
   * One line for an object that could not be put back: what this run did to it (or may have done, when the
   * answer to its write was lost) and how to undo that by hand.
   */
  private leftChanged(entry: Entry, why: string): string {
    const { ref, before, done } = entry;
    const what = describeRef(ref);
    const where = `${kubectlResource(ref)} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`;
    if (!before) {
      if (done) return `${what} was created by this run, and could not be deleted (${why}); to undo: kubectl delete ${where}`;
      // Only this run's object carries its run id: the command checks that before it deletes anything.
      const jsonpath = `{.metadata.annotations.${RUN_ANNOTATION.replace(/\./g, '\\.')}}`;
      return `${what} may have been created by this run, and could not be checked (${why}); to undo: kubectl get ${where} --ignore-not-found -o jsonpath='${jsonpath}' | grep -qx ${this.runId} && kubectl delete ${where}`;
    }
    const deleted = entry.wrote === undefined;
    const did = `${done ? 'was' : 'may have been'} ${deleted ? 'deleted' : 'changed'} by this run`;
    const json = JSON.stringify(restorable(before)).replace(/'/g, `'\\''`);
    return `${what} ${did}, and could not be put back (${why}); to undo: echo '${json}' | kubectl ${deleted ? 'create' : 'replace'} -f -`;
  }
}

/** What a user would apply to put an object back: no server fields, no status. */
function restorable(obj: KubeObject): KubeObject {
  const metadata = Object.fromEntries(Object.entries(obj.metadata).filter(([k]) => !SERVER_FIELDS.includes(k)));
  const { status: _s, ...body } = obj;
  return { ...body, metadata } as KubeObject;
}

/** The same labels, annotations and body (spec, data, endpoints, …); server fields and status do not count. */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(canonical(content(a))) === JSON.stringify(canonical(content(b)));
}

function content(obj: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata, status: _s, ...body } = obj;
  return { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {}, ...body };
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}
