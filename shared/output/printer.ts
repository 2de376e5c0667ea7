// Printers for -o yaml|json|name. One object prints as itself; several print as one kind: List, as kubectl does,
// so that the output can be piped to `kubectl apply -f -`.
import type { OutputFormat } from '../cli/flags.ts';
import { toYaml } from './yaml.ts';

export interface PrintableObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  [key: string]: unknown;
}

export function formatObjects(objects: PrintableObject[], format: OutputFormat): string {
  if (format === 'name') return objects.map((o) => `${resourceName(o)}\n`).join('');
  const shown = objects.map(withoutManagedFields);
  const value = shown.length === 1 ? shown[0] : { apiVersion: 'v1', kind: 'List', items: shown, metadata: { resourceVersion: '' } };
  return format === 'json' ? JSON.stringify(value, null, 4) + '\n' : toYaml(value);
}

/** As kubectl prints objects by default (--show-managed-fields=false): without metadata.managedFields. */
function withoutManagedFields(o: PrintableObject): PrintableObject {
  if (!o.metadata || !('managedFields' in o.metadata)) return o;
  const { managedFields: _, ...metadata } = o.metadata as Record<string, unknown>;
  return { ...o, metadata };
}

/** `service/vmhttp`, `serviceentry.networking.istio.io/mesh-expansion-vmhttp`: kubectl's -o name form. */
export function resourceName(o: PrintableObject): string {
  const apiVersion = o.apiVersion ?? 'v1';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = (o.kind ?? 'object').toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${o.metadata?.name ?? ''}`;
}
