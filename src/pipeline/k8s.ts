// Optional Kubernetes metadata for pods on this node: used only when the API is reachable from
// inside a cluster (service-account token + KUBERNETES_SERVICE_HOST). Lookups are synchronous and
// never block: a miss returns undefined and schedules one rate-limited refresh of the node's pods.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { hostname } from 'node:os';

export interface PodMetadata {
  uid: string;
  name: string;
  namespace: string;
  nodeName?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Deployment / StatefulSet / DaemonSet / Job / CronJob name (ReplicaSet hash stripped). */
  workload?: string;
  /** container id (runtime prefix removed) → container name */
  containers: Map<string, string>;
}

interface PodJson {
  metadata?: { uid?: string; name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }> };
  spec?: { nodeName?: string };
  status?: { containerStatuses?: Array<{ name?: string; containerID?: string }>; initContainerStatuses?: Array<{ name?: string; containerID?: string }> };
}

export function podFromJson(p: PodJson): PodMetadata | undefined {
  const m = p.metadata;
  if (!m?.uid || !m.name || !m.namespace) return undefined;
  const containers = new Map<string, string>();
  for (const c of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const id = c.containerID?.replace(/^[a-z-]+:\/\//, '');
    if (id && c.name) containers.set(id, c.name);
  }
  const owner = m.ownerReferences?.find((o) => o.controller) ?? m.ownerReferences?.[0];
  let workload = owner?.name;
  if (owner?.kind === 'ReplicaSet' && workload) {
    const hash = m.labels?.['pod-template-hash'];
    workload = hash && workload.endsWith(`-${hash}`) ? workload.slice(0, -hash.length - 1) : workload.replace(/-[a-z0-9]{5,10}$/, '');
  } else if (owner?.kind === 'Job' && workload && /-\d{8,}$/.test(workload)) {
    workload = workload.replace(/-\d{8,}$/, '');  // CronJob-created jobs: <cronjob>-<schedule time>
  }
  return {
    uid: m.uid, name: m.name, namespace: m.namespace, nodeName: p.spec?.nodeName,
    labels: m.labels ?? {}, annotations: m.annotations ?? {}, workload, containers,
  };
}

export type PodLister = () => Promise<PodJson[]>;

export interface K8sOptions {
  lister?: PodLister;           // injected in tests; default: the in-cluster API
  refreshMs?: number;           // at most one list per this interval
  maxPods?: number;
}

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster pod lister, or undefined outside a cluster. */
export function inClusterLister(env = process.env): PodLister | undefined {
  const host = env.KUBERNETES_SERVICE_HOST, port = env.KUBERNETES_SERVICE_PORT ?? '443';
  let token: string, ca: Buffer;
  try {
    token = readFileSync(`${SA}/token`, 'utf8').trim();
    ca = readFileSync(`${SA}/ca.crt`);
  } catch { return undefined; }
  if (!host) return undefined;
  const node = env.KOTEL_K8S_NODE_NAME ?? env.K8S_NODE_NAME ?? hostname();
  return () => new Promise((resolve, reject) => {
    const req = request({
      host, port, ca, method: 'GET', timeout: 5000,
      path: `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`kubernetes API: HTTP ${res.statusCode}`));
        try { resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items?: PodJson[] }).items ?? []); } catch (e) { reject(e as Error); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('kubernetes API: timeout')));
    req.on('error', reject);
    req.end();
  });
}

export class K8sMetadata {
  private readonly lister: PodLister | undefined;
  private readonly refreshMs: number;
  private readonly maxPods: number;
  private pods = new Map<string, PodMetadata>();
  private lastRefresh = -Infinity;
  private inFlight: Promise<void> | undefined;
  errors = 0;
  lastError: string | undefined;

  constructor(opts: K8sOptions = {}) {
    this.lister = opts.lister ?? inClusterLister();
    this.refreshMs = opts.refreshMs ?? 30_000;
    this.maxPods = opts.maxPods ?? 2048;
  }

  get enabled(): boolean { return this.lister !== undefined; }

  /** Cached pod, or undefined (then a refresh is scheduled unless one ran recently). */
  pod(uid: string): PodMetadata | undefined {
    const hit = this.pods.get(uid);
    if (!hit) void this.refresh();
    return hit;
  }

  refresh(force = false): Promise<void> {
    if (!this.lister) return Promise.resolve();
    if (this.inFlight) return this.inFlight;
    if (!force && Date.now() - this.lastRefresh < this.refreshMs) return Promise.resolve();
    this.lastRefresh = Date.now();
    this.inFlight = this.lister().then((items) => {
      const next = new Map<string, PodMetadata>();
      for (const item of items) {
        const pod = podFromJson(item);
        if (pod && next.size < this.maxPods) next.set(pod.uid, pod);
      }
      this.pods = next;
    }, (err: Error) => { this.errors++; this.lastError = err.message; }).finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }
}
