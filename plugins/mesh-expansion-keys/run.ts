// mesh-expansion keys: seed 000's "extract the initial keys the service account needs to use on the VMs", i.e.
// root-cert.pem, cert-chain.pem and key.pem out of the Secret istio.<sa> that Citadel made for each service
// account up to Istio 1.4 (reference/istioctl.md §8, `machineCerts`). The key is written 0600 in a 0700
// directory, all files at once. Istio 1.5 and later make no such Secret; the error says what replaced it.
import path from 'node:path';
import { checkNamespace, checkSubdomain } from '../../shared/cli/args.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { CliError, DataError, ExitCode, UsageError } from '../../shared/errors.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import { checkOutputDirectory, dryRunListing, writeDirectory } from '../../shared/fs/write.ts';
import { WORKLOAD_KEY_FILES, workloadKeysProblem } from '../../shared/istio/ca-certs.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import type { MeshExpansionKeysArgs } from './command.ts';

type Secret = KubeObject & { type?: string; data?: Record<string, string> };

export async function run(ctx: PluginContext, args: MeshExpansionKeysArgs): Promise<Result> {
  const dryRun = args.dryRun !== undefined && args.dryRun !== 'none';
  if (!args.outputDir && !dryRun) throw new UsageError('expecting an output directory', { hint: 'add --output-dir <dir>: root-cert.pem, cert-chain.pem and key.pem go there (or --dry-run to only look)' });
  const outputDir = args.outputDir ?? '.';
  if (args.outputDir !== undefined) checkOutputDirectory(args.outputDir, [...WORKLOAD_KEY_FILES]);
  const sa = checkSubdomain('service account', args.serviceAccount);
  const namespace = checkNamespace(ctx.namespace());
  const name = `istio.${sa}`;
  const secret = await ctx.kube().get<Secret>({ apiVersion: 'v1', kind: 'Secret', name, namespace });
  if (!secret) {
    throw new CliError(`secret ${name} was not found in namespace ${namespace}`, ExitCode.general, {
      details: [
        'Istio 1.5 and later no longer keep a Secret istio.<service-account> per service account: istiod issues the certificates itself,',
        'and a VM gets its certificate with a service-account token instead (Istio 1.8 and later).',
      ],
      hint: `on Istio 1.8 or later, write the VM's files with: kubectl vm workload-entry configure --name <workload-group> -n ${namespace} --output-dir ${args.outputDir}; on Istio 1.4, check -n and -s`,
    });
  }
  const files = Object.fromEntries(
    WORKLOAD_KEY_FILES.map((f) => {
      const value = secret.data?.[f];
      if (!value) throw new DataError(`secret ${namespace}/${name} has no ${f}`, { hint: `it should hold ${WORKLOAD_KEY_FILES.join(', ')}; check it with: kubectl describe secret ${name} -n ${namespace}` });
      return [f, Buffer.from(value, 'base64').toString('utf8')];
    }),
  ) as Record<(typeof WORKLOAD_KEY_FILES)[number], string>;
  const problem = workloadKeysProblem(files);
  if (problem) throw new DataError(`secret ${namespace}/${name} does not hold a usable key and certificate: ${problem}`, { hint: `check it with: kubectl describe secret ${name} -n ${namespace}` });

  const out = WORKLOAD_KEY_FILES.map((f) => ({ name: f, content: files[f], mode: f === 'key.pem' ? 0o600 : 0o644, secret: f === 'key.pem', redacted: '<private key: not shown in a dry run>' }));
  if (dryRun) return { summary: dryRunListing(outputDir, false, out, dryRunSuffix(ctx.dryRun)) };
  writeDirectory(outputDir, out);
  ctx.log.warn(`the private key of service account "${sa}" in namespace "${namespace}" has been stored at "${path.join(outputDir, 'key.pem')}" (mode 0600)`);
  return { summary: [`Keys of service account ${namespace}/${sa} written into directory ${outputDir}: ${WORKLOAD_KEY_FILES.join(', ')}`] };
}
