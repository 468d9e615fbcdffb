import assert from 'node:assert/strict';
import { parseEnviron, parseResourceAttributes, resolveService } from '../../src/pipeline/service-name.ts';
import { K8sMetadata, podFromJson, type PodMetadata } from '../../src/pipeline/k8s.ts';

const CID = 'c'.repeat(64);
const podJson = (over: Record<string, unknown> = {}) => ({
  metadata: {
    uid: 'u1', name: 'checkout-7d9f8b6c5d-x2x9k', namespace: 'shop',
    labels: { 'pod-template-hash': '7d9f8b6c5d', ...(over.labels as object) },
    annotations: { ...(over.annotations as object) },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'checkout-7d9f8b6c5d', controller: true }],
  },
  spec: { nodeName: 'node-a' },
  status: { containerStatuses: [{ name: 'app', containerID: `containerd://${CID}` }] },
});

describe('pipeline: service.name resolution order', () => {
  const pod = (over: Record<string, unknown> = {}): PodMetadata => podFromJson(podJson(over))!;

  it('OTEL_SERVICE_NAME from the process environment wins', () => {
    const env = parseEnviron(Buffer.from('PATH=/bin\0OTEL_SERVICE_NAME=payments\0SECRET=x\0'));
    assert.deepEqual([...env.keys()], ['OTEL_SERVICE_NAME'], 'only OTEL_* variables are kept');
    assert.equal(resolveService({ environ: env, pod: pod({ annotations: { 'resource.opentelemetry.io/service.name': 'ann' } }), containerName: 'app', executableName: 'node' }).name, 'payments');
  });

  it('then service.name in OTEL_RESOURCE_ATTRIBUTES (with namespace and instance id)', () => {
    const env = parseEnviron('OTEL_RESOURCE_ATTRIBUTES=service.name=billing,service.namespace=fin,service.instance.id=i%2D1\0');
    assert.deepEqual(resolveService({ environ: env, executableName: 'java' }), { name: 'billing', namespace: 'fin', instanceId: 'i-1', source: 'env:OTEL_RESOURCE_ATTRIBUTES' });
    assert.deepEqual([...parseResourceAttributes('a=1, b = %20x ,bad')], [['a', '1'], ['b', ' x']]);
  });

  it('then the annotation, the app.kubernetes.io/name label, the workload owner, the container name, the executable', () => {
    const base = { containerName: 'app', executableName: 'node' };
    assert.equal(resolveService({ ...base, pod: pod({ annotations: { 'resource.opentelemetry.io/service.name': 'ann' }, labels: { 'app.kubernetes.io/name': 'lbl' } }) }).name, 'ann');
    assert.equal(resolveService({ ...base, pod: pod({ labels: { 'app.kubernetes.io/name': 'lbl' } }) }).name, 'lbl');
    const owner = resolveService({ ...base, pod: pod() });
    assert.deepEqual(owner, { name: 'checkout', namespace: 'shop', instanceId: 'shop.checkout-7d9f8b6c5d-x2x9k.app', source: 'k8s:owner' });
    assert.equal(resolveService({ containerName: 'app', executableName: 'node' }).name, 'app');
    assert.deepEqual(resolveService({ executableName: 'node' }), { name: 'node', source: 'executable' });
  });
});

describe('pipeline: Kubernetes pod metadata (optional, cached)', () => {
  it('decodes pods: container ids without runtime prefix, workload owners', () => {
    const p = podFromJson(podJson())!;
    assert.equal(p.containers.get(CID), 'app');
    assert.equal(p.workload, 'checkout');
    assert.equal(p.nodeName, 'node-a');
    const job = podFromJson({ metadata: { uid: 'u2', name: 'n', namespace: 'x', ownerReferences: [{ kind: 'Job', name: 'nightly-28930500', controller: true }] } })!;
    assert.equal(job.workload, 'nightly');
    assert.equal(podFromJson({ metadata: { name: 'no-uid' } }), undefined);
  });

  it('never blocks: a miss schedules one rate-limited list; later look-ups hit the cache', async () => {
    let lists = 0;
    const k8s = new K8sMetadata({ lister: async () => { lists++; return [podJson()]; }, refreshMs: 60_000 });
    assert.equal(k8s.pod('u1'), undefined);
    await k8s.refresh();
    assert.equal(k8s.pod('u1')?.name, 'checkout-7d9f8b6c5d-x2x9k');
    assert.equal(k8s.pod('unknown'), undefined);
    await k8s.refresh();
    assert.equal(lists, 1);
  });

  it('is disabled outside a cluster and survives API errors', async () => {
    assert.equal(new K8sMetadata({ lister: undefined }).enabled, process.env.KUBERNETES_SERVICE_HOST !== undefined);
    const k8s = new K8sMetadata({ lister: async () => { throw new Error('HTTP 403'); } });
    await k8s.refresh(true);
    assert.equal(k8s.errors, 1);
    assert.equal(k8s.pod('u1'), undefined);
  });
});
