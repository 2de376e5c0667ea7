// ca-certs create: the `cacerts` Secret of Istio's plug-in CA (seeds 001 and 004, step 1), made from four files
// that are checked first: each parses as PEM, the CA certificate matches its key, and the chain leads to the
// root. Istio's sample certificates are refused unless --allow-sample-certs; an existing Secret is replaced only
// with --force. The private key is never printed: -o and dry runs show the data as `<redacted: N bytes>`.
import { checkNamespace } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { ConflictError, UsageError } from '../../shared/errors.ts';
import { buildCaCertsSecret, CA_FILES, CACERTS_SECRET, checkCaFiles, describeSamples, redactSecret, SAMPLE_CERT_WARNING, type CaInputs } from '../../shared/istio/ca-certs.ts';
import { DEFAULT_ISTIO_NAMESPACE } from '../../shared/istio/revision.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { isAlreadyExists } from '../../shared/kube/errors.ts';
import { MANAGED_BY_LABEL, MANAGER, isManaged, refOf, type KubeObject } from '../../shared/kube/objects.ts';
import { retryOnConflict } from '../../shared/kube/retry.ts';
import type { CaCertsCreateArgs } from './command.ts';

const FLAG: Record<(typeof CA_FILES)[number], keyof CaCertsCreateArgs> = {
  'ca-cert.pem': 'caCert',
  'ca-key.pem': 'caKey',
  'root-cert.pem': 'rootCert',
  'cert-chain.pem': 'certChain',
};
const USAGE = 'kubectl vm ca-certs create --ca-cert ca-cert.pem --ca-key ca-key.pem --root-cert root-cert.pem --cert-chain cert-chain.pem';

type Secret = KubeObject & { type?: string; data?: Record<string, string> };
type Outcome = 'created' | 'configured' | 'unchanged';

export async function run(ctx: PluginContext, args: CaCertsCreateArgs): Promise<Result> {
  const missing = CA_FILES.filter((f) => !args[FLAG[f]]).map((f) => `--${f.replace('.pem', '')}`);
  if (missing.length) throw new UsageError(`missing ${missing.join(', ')}: the cacerts Secret needs all four files`, { hint: USAGE });
  const inputs = Object.fromEntries(CA_FILES.map((f) => {
    const source = args[FLAG[f]] as string;
    return [f, { source, text: ctx.readFile(source) }];
  })) as CaInputs;
  // Refuses Istio's samples (any one file, or a CA signed by them) unless --allow-sample-certs.
  const checked = checkCaFiles(inputs, ctx.now(), { allowSamples: args.allowSampleCerts === true });
  if (checked.samples.length) ctx.log.warn(`${describeSamples(checked.samples, inputs)}: ${SAMPLE_CERT_WARNING}`);

  const namespace = checkNamespace(args.istioNamespace ?? args.namespace ?? DEFAULT_ISTIO_NAMESPACE);
  const desired = buildCaCertsSecret(namespace, inputs) as Secret;
  const kube = ctx.kube();
  const suffix = dryRunSuffix(ctx.dryRun);
  const result = await ctx.step(`Secret ${namespace}/${CACERTS_SECRET}`, async (report) => {
    const r = await write(kube, desired, args.force === true);
    report(`Secret ${namespace}/${CACERTS_SECRET} ${r.outcome}${suffix}`);
    return r;
  });

  const restart = `kubectl rollout restart deployment -l app=istiod -n ${namespace}`;
  if (result.outcome === 'configured' && ctx.dryRun === 'none') ctx.log.warn(`istiod reads cacerts only when it starts: restart it to use the new CA (${restart}); workloads get certificates from the new CA as theirs are renewed`);
  if (result.outcome === 'created' && ctx.dryRun === 'none') ctx.log.note(`istiod uses cacerts from its next start: install Istio now, or restart a running istiod (${restart})`);
  return { objects: [redactSecret(result.object)], summary: [`secret/${CACERTS_SECRET} ${result.outcome}${suffix}`] };
}

/** POST; when it exists: unchanged if it holds the same files, refused without --force, else a guarded PUT. */
async function write(kube: KubeClient, desired: Secret, force: boolean): Promise<{ object: Secret; outcome: Outcome }> {
  try {
    return { object: await kube.create(desired), outcome: 'created' };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const ns = desired.metadata.namespace!;
  return retryOnConflict(async () => {
    const live = await kube.get<Secret>(refOf(desired));
    if (!live) throw new ConflictError(`Secret ${ns}/${CACERTS_SECRET} was deleted while we were replacing it`, { hint: 'run the command again' });
    const same = CA_FILES.every((f) => live.data?.[f] === desired.data?.[f]) && Object.keys(live.data ?? {}).length === CA_FILES.length;
    if (same) return { object: live, outcome: 'unchanged' as const };
    if (!force) {
      throw new ConflictError(`Secret ${ns}/${CACERTS_SECRET} already exists and holds other certificates${isManaged(live) ? '' : ' (it was not made by kubectl-vm)'}`, {
        hint: 'add --force to replace it; istiod must then be restarted to pick up the new CA',
      });
    }
    const replacement: Secret = {
      ...desired,
      type: live.type ?? 'Opaque',
      metadata: { ...live.metadata, labels: { ...live.metadata.labels, [MANAGED_BY_LABEL]: MANAGER } },
    };
    return { object: await kube.replace(replacement), outcome: 'configured' as const };
  });
}
