// service.name (and service.namespace, service.instance.id) of an observed process, in order:
// its own OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) from /proc/<pid>/environ,
// the pod's resource.opentelemetry.io/service.name annotation, its app.kubernetes.io/name label,
// the workload owner, the container name, the executable name.
import type { PodMetadata } from './k8s.ts';

export interface ServiceIdentity { name: string; namespace?: string; instanceId?: string; source: string }

export interface ServiceInputs {
  environ?: Map<string, string>;
  pod?: PodMetadata;
  containerName?: string;
  executableName: string;
}

/** NUL-separated KEY=VALUE pairs; only the OTEL_* ones are kept (the rest may hold secrets). */
export function parseEnviron(raw: string | Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of raw.toString('utf8').split('\0')) {
    if (!entry.startsWith('OTEL_')) continue;
    const eq = entry.indexOf('=');
    if (eq > 0) out.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return out;
}

/** OTEL_RESOURCE_ATTRIBUTES: comma-separated key=value, values percent-encoded. */
export function parseResourceAttributes(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (value ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    try { out.set(pair.slice(0, eq).trim(), decodeURIComponent(pair.slice(eq + 1).trim())); } catch { /* malformed: skip */ }
  }
  return out;
}

export const ANNOTATION_SERVICE_NAME = 'resource.opentelemetry.io/service.name';
export const ANNOTATION_SERVICE_NAMESPACE = 'resource.opentelemetry.io/service.namespace';
export const LABEL_APP_NAME = 'app.kubernetes.io/name';

export function resolveService(i: ServiceInputs): ServiceIdentity {
  const resAttrs = parseResourceAttributes(i.environ?.get('OTEL_RESOURCE_ATTRIBUTES'));
  const namespace = resAttrs.get('service.namespace') || i.pod?.annotations[ANNOTATION_SERVICE_NAMESPACE] || i.pod?.namespace;
  const instanceId = resAttrs.get('service.instance.id')
    || (i.pod && i.containerName ? `${i.pod.namespace}.${i.pod.name}.${i.containerName}` : undefined);
  const pick = (name: string | undefined, source: string): ServiceIdentity | undefined =>
    name ? { name, source, ...(namespace ? { namespace } : {}), ...(instanceId ? { instanceId } : {}) } : undefined;
  return pick(i.environ?.get('OTEL_SERVICE_NAME'), 'env:OTEL_SERVICE_NAME')
    ?? pick(resAttrs.get('service.name'), 'env:OTEL_RESOURCE_ATTRIBUTES')
    ?? pick(i.pod?.annotations[ANNOTATION_SERVICE_NAME], 'k8s:annotation')
    ?? pick(i.pod?.labels[LABEL_APP_NAME], 'k8s:label')
    ?? pick(i.pod?.workload, 'k8s:owner')
    ?? pick(i.containerName, 'container')
    ?? { name: i.executableName, source: 'executable', ...(namespace ? { namespace } : {}), ...(instanceId ? { instanceId } : {}) };
}
