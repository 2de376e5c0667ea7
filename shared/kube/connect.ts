// Builds a KubeClient for a loaded kubeconfig.
import type { DryRun } from '../cli/flags.ts';
import type { Logger } from '../output/logger.ts';
import { KubeClient } from './client.ts';
import type { LoadedKubeconfig } from './kubeconfig.ts';
import type { BackoffPolicy } from './retry.ts';
import { OfflineSender, Transport } from './transport.ts';
import { ConfigError } from '../errors.ts';

export interface ConnectOptions {
  dryRun: DryRun;
  log: Logger;
  /** Whole-request limit in milliseconds; 0 means none. */
  timeoutMs: number;
  backoff?: BackoffPolicy;
  env?: Readonly<Record<string, string | undefined>>;
  matchServerVersion?: boolean;
}

export function clientFor(config: LoadedKubeconfig, options: ConnectOptions): KubeClient {
  const transport = new Transport(config, { timeoutMs: options.timeoutMs, log: options.log, backoff: options.backoff, env: options.env, matchServerVersion: options.matchServerVersion });
  options.log.debug(
    `using context "${config.contextName}" (${config.cluster.server}) from ${config.sources.join(', ')}; namespace "${config.namespace}" (${config.namespaceSource})`,
  );
  return new KubeClient(config, transport, options.dryRun, options.log);
}

/**
 * A client for a client-side dry run on a machine without any kubeconfig: nothing is written anyway, and reading
 * from the cluster fails with a clear message.
 */
export function offlineClient(namespace: string, log: Logger, why: () => Error): KubeClient {
  const config: LoadedKubeconfig = {
    sources: [],
    contextName: '(none)',
    clusterName: '(none)',
    userName: '(none)',
    cluster: {},
    user: {},
    namespace,
    namespaceSource: 'default',
    minimal: {},
  };
  const explain = () => {
    const err = why();
    return new ConfigError(`${err.message}; a client-side dry run can do without a kubeconfig only when it reads nothing from the cluster`, {
      hint: err instanceof ConfigError ? err.hint : undefined,
    });
  };
  return new KubeClient(config, new OfflineSender(explain), 'client', log);
}
