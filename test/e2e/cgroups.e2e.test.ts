// End to end on the real kernel and this hybrid host: real cgroups created by the test in the v2 tree
// (a docker-style and a kubepods-style path, plus v1 memory and cpu cgroups at the same paths when the
// v1 controllers are mounted), processes that burn CPU (two pinned to one CPU, so they stall each
// other: PSI) and allocate memory → the real agent's cgroups receiver → OTLP/gRPC. The exported
// CPU time and PSI totals are compared with the cgroup files read by the test around an export.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { OtlpReceiver, latestSum, pointsOf } from '../support/otlp-receiver.ts';
import { cgroup2Root, cgroupV1Mounts, parseFlatKeyed, parsePressure } from '../../src/pipeline/cgroups.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';

const V2 = cgroup2Root();
const V1 = cgroupV1Mounts();
const hex = (c: string) => c.repeat(64).slice(0, 64);
const CID_DOCKER = `${hex('d')}`.replace(/^d{8}/, (process.pid.toString(16) + 'dddddddd').slice(0, 8));
const CID_POD = hex('e');
const POD_UID = `4b1f${(process.pid % 0xffff).toString(16).padStart(4, '0')}-1c2d-4e5f-8a9b-0c1d2e3f4a5b`;
const TOP = `/kotel-e2e-cgroups-${process.pid}`;
const DOCKER = `${TOP}/docker-${CID_DOCKER}.scope`;
const KUBE = `${TOP}/kubepods/burstable/pod${POD_UID}/${CID_POD}`;
const ALLOC_MB = 48;

// Waits for a line on stdin, then (optionally) allocates and touches memory, then burns CPU.
const BURNER = `process.stdin.once('data', () => { globalThis.keep = Buffer.alloc(Number(process.argv[1]) << 20, 1); process.stdout.write('go\\n'); for (;;) {} });`;

function config(endpoint: string): string {
  return `receivers:
  cgroups: { include: ['^${TOP}/'] }
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
service:
  pipelines:
    metrics: { receivers: [cgroups], exporters: [otlp] }
  telemetry:
    metrics: { interval: 500ms }
`;
}

describe('e2e: cgroups receiver — CPU time, throttling, memory and PSI per container cgroup (hybrid v1 + v2)', function () {
  this.timeout(90_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  const burners: ChildProcess[] = [];
  const made: string[] = [];
  const v1Mem = V1.get('memory'), v1Cpu = V1.get('cpu');

  function mk(dir: string): void {
    mkdirSync(dir, { recursive: true });
    made.push(dir);
  }

  async function burner(cgroups: string[], allocMb: number, cpu?: number): Promise<ChildProcess> {
    const argv = ['-e', BURNER, String(allocMb)];
    const child = cpu === undefined
      ? spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', String(cpu), process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
    burners.push(child);
    await new Promise((r) => setTimeout(r, 300));   // taskset has exec'ed node
    for (const cg of cgroups) writeFileSync(join(cg, 'cgroup.procs'), String(child.pid));
    child.stdin!.write('\n');
    await once(child.stdout!, 'data');
    return child;
  }

  before(async function () {
    if (!V2 || !existsSync(join(V2, 'cpu.stat'))) this.skip();
    mk(join(V2, DOCKER));
    mk(join(V2, KUBE));
    const dockerV1 = v1Mem ? [join(v1Mem, DOCKER)] : [];
    dockerV1.forEach(mk);
    const kubeV1 = v1Cpu ? [join(v1Cpu, KUBE)] : [];
    kubeV1.forEach(mk);
    // Throttling: 20 ms of CPU per 100 ms period for the pod's container (v1 cpu controller on a hybrid host).
    if (v1Cpu) { writeFileSync(join(v1Cpu, KUBE, 'cpu.cfs_period_us'), '100000'); writeFileSync(join(v1Cpu, KUBE, 'cpu.cfs_quota_us'), '20000'); }
    // Two burners on CPU 0 in the docker cgroup: each waits for the other (PSI cpu some grows).
    await burner([join(V2, DOCKER), ...dockerV1], ALLOC_MB, 0);
    await burner([join(V2, DOCKER), ...dockerV1], 1, 0);
    await burner([join(V2, KUBE), ...kubeV1], 1);
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(config(rx.grpcEndpoint));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    for (const b of burners) { b.kill('SIGKILL'); if (b.exitCode === null && b.signalCode === null) await once(b, 'exit'); }
    await new Promise((r) => setTimeout(r, 100));
    for (const dir of made.reverse()) {
      // Remove the created directory and its parents up to TOP (v2 and each v1 hierarchy).
      for (let d = dir; d.includes(TOP); d = join(d, '..')) { try { rmdirSync(d); } catch { /* not empty yet or gone */ } }
    }
    if (agent) assert.equal(code, 0, `agent exit code; stderr:\n${agent.stderr()}`);
  });

  const docker = { resource: { 'container.id': CID_DOCKER } };
  const kube = { resource: { 'container.id': CID_POD, 'k8s.pod.uid': POD_UID } };

  /** Each export of a metric for one resource, as (time, value summed over the matching points). */
  function exportsOf(name: string, attrs: Record<string, string>, q: { resource: Record<string, string> }): Array<{ t: bigint; v: number }> {
    const byTime = new Map<bigint, number>();
    for (const { point } of pointsOf(rx.metrics(), name, attrs, q)) byTime.set(point.timeUnixNano, (byTime.get(point.timeUnixNano) ?? 0) + (point.value ?? 0));
    return [...byTime].map(([t, v]) => ({ t, v })).sort((a, b) => (a.t < b.t ? -1 : 1));
  }

  /** Reads the file, waits for an export the agent collected after that read, reads again: a ≤ exported ≤ b. */
  async function bracket(what: string, read: () => number, series: () => Array<{ t: bigint; v: number }>, eps: number): Promise<{ a: number; v: number; b: number }> {
    const tA = BigInt(Date.now()) * 1_000_000n + 20_000_000n;
    const a = read();
    await rx.waitFor(() => series().some((p) => p.t > tA), { timeoutMs: 15_000, what: `${what}: an export after the test read the file` });
    const b = read();
    const v = series().find((p) => p.t > tA)!.v;
    assert.ok(a - eps <= v && v <= b + eps, `${what}: exported ${v} not within the file's ${a} … ${b}`);
    return { a, v, b };
  }

  const usageSec = (path: string) => parseFlatKeyed(readFileSync(join(V2!, path, 'cpu.stat'), 'utf8')).get('usage_usec')! / 1e6;
  const psiCpuSome = (path: string) => parsePressure(readFileSync(join(V2!, path, 'cpu.pressure'), 'utf8')).some!.totalUs / 1e6;

  it('prints a ready line naming the v2 tree and the v1 controllers', () => {
    assert.match(agent.stderr(), new RegExp(`cgroups\\(v2:${V2}`));
  });

  it('docker-style cgroup: container.cpu.time arrives with container.id, grows, and matches cpu.stat usage_usec', async () => {
    await rx.waitFor(() => exportsOf('container.cpu.time', {}, docker).length >= 2, { timeoutMs: 15_000, what: 'two CPU time exports for the docker cgroup' });
    const s = exportsOf('container.cpu.time', {}, docker);
    assert.ok(s[s.length - 1].v > s[0].v, 'CPU time grows');
    const modes = new Set(pointsOf(rx.metrics(), 'container.cpu.time', {}, docker).map((p) => p.point.attributes['cpu.mode']));
    assert.deepEqual([...modes].sort(), ['system', 'user']);
    const r = pointsOf(rx.metrics(), 'container.cpu.time', {}, docker)[0].metric.resource;
    assert.equal(r['container.runtime.name'], 'docker');
    assert.equal(r['linux.cgroup.path'], DOCKER);
    await bracket('docker cpu time', () => usageSec(DOCKER), () => exportsOf('container.cpu.time', {}, docker), 1e-5);
  });

  it('docker-style cgroup: PSI cpu some stall time arrives, grows (two burners on one CPU) and matches cpu.pressure', async () => {
    const psi = () => exportsOf('linux.cgroup.pressure.stall_time', { 'linux.pressure.resource': 'cpu', 'linux.pressure.level': 'some' }, docker);
    await rx.waitFor(() => psi().length >= 2 && psi()[psi().length - 1].v > psi()[0].v, { timeoutMs: 15_000, what: 'growing PSI cpu some for the docker cgroup' });
    await bracket('docker PSI cpu some', () => psiCpuSome(DOCKER), psi, 0);
    for (const res of ['io', 'memory']) assert.ok(exportsOf('linux.cgroup.pressure.stall_time', { 'linux.pressure.resource': res, 'linux.pressure.level': 'full' }, docker).length > 0, `${res} full series`);
  });

  it('kubepods-style cgroup: CPU time and PSI with container.id and k8s.pod.uid; throttling from the v1 cpu controller', async function () {
    await rx.waitFor(() => exportsOf('container.cpu.time', {}, kube).length >= 2, { timeoutMs: 15_000, what: 'CPU time exports for the pod cgroup' });
    const r = pointsOf(rx.metrics(), 'container.cpu.time', {}, kube)[0].metric.resource;
    assert.equal(r['kotel.k8s.pod.qos_class'], 'Burstable');
    await bracket('pod cpu time', () => usageSec(KUBE), () => exportsOf('container.cpu.time', {}, kube), 1e-5);
    const psi = () => exportsOf('linux.cgroup.pressure.stall_time', { 'linux.pressure.resource': 'cpu', 'linux.pressure.level': 'some' }, kube);
    await bracket('pod PSI cpu some', () => psiCpuSome(KUBE), psi, 0);
    if (!v1Cpu) return;
    const throttled = () => latestSum(rx.metrics(), 'linux.cgroup.cpu.throttled_periods', {}, kube) ?? 0;
    await rx.waitFor(() => throttled() > 0, { timeoutMs: 15_000, what: 'throttled periods (20% quota)' });
    const file = parseFlatKeyed(readFileSync(join(v1Cpu, KUBE, 'cpu.stat'), 'utf8')).get('nr_throttled')!;
    assert.ok(throttled() <= file && throttled() > 0);
    assert.ok((latestSum(rx.metrics(), 'linux.cgroup.cpu.throttled_time', {}, kube) ?? 0) > 0);
    // 20% quota: the pod's CPU time grows at most ~0.2 s per second.
    const s = exportsOf('container.cpu.time', {}, kube);
    const first = s[0], last = s[s.length - 1];
    const rate = (last.v - first.v) / (Number(last.t - first.t) / 1e9);
    assert.ok(rate < 0.3, `throttled CPU rate ${rate.toFixed(2)} s/s`);
  });

  it('memory: container.memory.usage from the v1 memory controller covers the allocated buffer', async function () {
    if (!v1Mem) this.skip();
    await rx.waitFor(() => (latestSum(rx.metrics(), 'container.memory.usage', {}, docker) ?? 0) >= ALLOC_MB << 20, { timeoutMs: 15_000, what: `memory usage ≥ ${ALLOC_MB} MiB` });
    const file = Number(readFileSync(join(v1Mem!, DOCKER, 'memory.usage_in_bytes'), 'utf8'));
    const exported = latestSum(rx.metrics(), 'container.memory.usage', {}, docker)!;
    assert.ok(Math.abs(exported - file) / file < 0.1, `exported ${exported} vs file ${file}`);
    assert.ok((latestSum(rx.metrics(), 'container.memory.rss', {}, docker) ?? 0) >= ALLOC_MB << 20);
  });

  it('kotel\'s own metrics: tracked cgroups and the process cache statistics, with kotel\'s resource', async () => {
    const self = { resource: { 'service.name': 'kotel' } };
    await rx.waitFor(() => (latestSum(rx.metrics(), 'kotel.cgroups.tracked', {}, self) ?? 0) >= 2, { what: 'kotel.cgroups.tracked' });
    assert.equal(latestSum(rx.metrics(), 'kotel.cgroups.folded', {}, self), 0);
    assert.ok((latestSum(rx.metrics(), 'kotel.process_cache.size', {}, self) ?? 0) > 3);
    assert.ok(latestSum(rx.metrics(), 'kotel.process_cache.hits', {}, self) !== undefined);
    assert.ok(latestSum(rx.metrics(), 'kotel.process_cache.misses', {}, self) !== undefined);
  });
});
