// End to end on the real kernel: fio drives block I/O on a loop device → the blockio receiver
// (in-kernel histograms) → the agent → OTLP/gRPC → a receiver. Counts must equal fio's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpReceiver, latestPoints, latestSum, pointsOf, sumOfDeltas } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { fio, fioProcess, loopDevice, type LoopDevice } from './blockio-fio.ts';
import { blkcgRoot } from '../../src/receivers/blockio/devices.ts';
import { boundsNs, layoutFromSettings, quantileUpperBound } from '../../src/pipeline/kernel-histogram.ts';

const HISTOGRAM = { sub_buckets: 4, min_ns: 1024, max_ns: 10e9 };

export function blockioConfig(endpoint: string, settings = `{ histogram: ${JSON.stringify(HISTOGRAM)} }`): string {
  return `receivers:
  blockio: ${settings}
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
service:
  pipelines:
    metrics: { receivers: [blockio], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

describe('e2e: block I/O latency histograms and counters match fio', function () {
  this.timeout(180_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let loop: LoopDevice;
  let mnt: string | undefined;

  const ops = (dev: string, direction: string) =>
    latestSum(rx.metrics(), 'system.disk.operations', { 'system.device': dev, 'disk.io.direction': direction }) ?? 0;
  const hist = (dev: string, direction: string) => {
    const points = [...latestPoints(rx.metrics(), 'linux.block.request.duration', { 'system.device': dev, 'disk.io.direction': direction }).values()];
    return points.length ? points.reduce((a, b) => (b.point.timeUnixNano > a.point.timeUnixNano ? b : a)).point : undefined;
  };
  /** Waits until two consecutive exports agree (nothing in flight), returns the value. */
  async function settled(read: () => number): Promise<number> {
    let last = -1;
    for (let i = 0; i < 40; i++) {
      const before = rx.metrics().length;
      await rx.waitFor(() => rx.metrics().length > before, { timeoutMs: 5000, what: 'next export' });
      const v = read();
      if (v === last) return v;
      last = v;
    }
    return last;
  }

  before(async () => {
    loop = loopDevice(128);
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(blockioConfig(rx.grpcEndpoint));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    if (mnt) try { execFileSync('umount', [mnt]); } catch { /* not mounted */ }
    loop?.detach();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('prints a ready line naming the attached hook', () => {
    assert.match(agent.stderr(), /ready: receivers .*blockio\((tp_btf|raw_tp|tracepoint)\/block_rq_issue\)/);
  });

  it('psync direct 4k random reads on a raw loop device: reads = fio I/Os, plausible latency, kernel bounds', async () => {
    const before = await settled(() => ops(loop.name, 'read'));
    const r = fio(['--name=psync', `--filename=${loop.path}`, '--ioengine=psync', '--direct=1', '--rw=randread', '--bs=4k', '--size=32M', '--number_ios=3000']);
    assert.equal(r.readIos, 3000);
    await rx.waitFor(() => ops(loop.name, 'read') >= before + r.readIos, { timeoutMs: 15_000, what: `${r.readIos} reads on ${loop.name}` });
    assert.equal(await settled(() => ops(loop.name, 'read')), before + r.readIos);
    const h = hist(loop.name, 'read')!;
    assert.equal(h.count, before + r.readIos, 'histogram count = operations');
    assert.equal(h.bucketCounts!.reduce((a, b) => a + b, 0), h.count);
    // Bounds are exactly the kernel's integer thresholds (ns), in seconds.
    const kernelBounds = boundsNs(layoutFromSettings(HISTOGRAM));
    assert.deepEqual(h.explicitBounds!.map((b) => Math.round(b * 1e9)), kernelBounds);
    assert.ok(h.explicitBounds!.every((b, i) => b === kernelBounds[i] / 1e9));
    // Plausible: between 1 µs and 100 ms per 4k read on tmpfs; min <= mean <= max; below fio's (which adds syscall time).
    const mean = h.sum! / h.count!;
    assert.ok(mean > 1e-6 && mean < 0.1, `mean ${mean}`);
    assert.ok(h.min! <= mean && mean <= h.max!);
    assert.ok(mean * 1e9 <= r.readClatMeanNs * 1.5 + 50_000, `kernel mean ${mean * 1e9} ns vs fio clat ${r.readClatMeanNs} ns`);
    const p50 = quantileUpperBound(h.explicitBounds!, h.bucketCounts!, 0.5, h.max)!;
    const p99 = quantileUpperBound(h.explicitBounds!, h.bucketCounts!, 0.99, h.max)!;
    assert.ok(p50 <= p99 && p99 <= h.max!, `p50 ${p50} p99 ${p99} max ${h.max}`);
    // bytes: 4 KiB per read
    const bytes = latestSum(rx.metrics(), 'system.disk.io', { 'system.device': loop.name, 'disk.io.direction': 'read' })!;
    assert.ok(bytes >= r.readIos * 4096);
    const time = latestSum(rx.metrics(), 'system.disk.operation_time', { 'system.device': loop.name, 'disk.io.direction': 'read' })!;
    assert.ok(Math.abs(time - h.sum!) < 1e-6 * Math.max(1, h.sum!), 'operation_time = histogram sum');
  });

  it('libaio direct random writes (iodepth 8) then fsync: writes = fio I/Os, flushes counted apart', async () => {
    const readsBefore = await settled(() => ops(loop.name, 'read'));
    const writesBefore = ops(loop.name, 'write');
    const flushesBefore = latestSum(rx.metrics(), 'linux.block.operations', { 'system.device': loop.name, 'linux.block.operation': 'flush' }) ?? 0;
    const r = fio(['--name=aio', `--filename=${loop.path}`, '--ioengine=libaio', '--iodepth=8', '--direct=1', '--rw=randwrite', '--bs=4k', '--size=32M', '--number_ios=2000', '--end_fsync=1']);
    assert.equal(r.writeIos, 2000);
    await rx.waitFor(() => ops(loop.name, 'write') >= writesBefore + r.writeIos, { timeoutMs: 15_000, what: `${r.writeIos} writes` });
    assert.equal(await settled(() => ops(loop.name, 'write')), writesBefore + r.writeIos);
    assert.equal(ops(loop.name, 'read'), readsBefore, 'no reads from a write job');
    const flushes = latestSum(rx.metrics(), 'linux.block.operations', { 'system.device': loop.name, 'linux.block.operation': 'flush' }) ?? 0;
    assert.ok(flushes > flushesBefore, 'end_fsync issued a flush, counted as flush');
    assert.equal(hist(loop.name, 'write')!.count, writesBefore + r.writeIos);
  });

  it('discard is counted as discard, never as a write', async () => {
    const writesBefore = await settled(() => ops(loop.name, 'write'));
    execFileSync('blkdiscard', ['-o', '0', '-l', String(1 << 20), loop.path]);
    await rx.waitFor(() => (latestSum(rx.metrics(), 'linux.block.operations', { 'system.device': loop.name, 'linux.block.operation': 'discard' }) ?? 0) > 0,
      { timeoutMs: 15_000, what: 'a discard' });
    assert.equal(await settled(() => ops(loop.name, 'write')), writesBefore);
  });

  it('psync direct reads of a file on ext4 on the loop device: reads >= fio I/Os (plus the filesystem\'s own)', async () => {
    execFileSync('mkfs.ext4', ['-q', '-F', loop.path]);
    mnt = mkdtempSync('/tmp/kotel-blockio-mnt-');
    execFileSync('mount', ['-o', 'noatime', loop.path, mnt]);
    const file = join(mnt, 'data');
    fio(['--name=lay', `--filename=${file}`, '--rw=write', '--bs=1M', '--size=16M', '--end_fsync=1']);
    const before = await settled(() => ops(loop.name, 'read'));
    const r = fio(['--name=fileread', `--filename=${file}`, '--ioengine=psync', '--direct=1', '--rw=randread', '--bs=4k', '--size=16M', '--number_ios=1000']);
    const after = await settled(() => ops(loop.name, 'read'));
    assert.ok(after - before >= r.readIos, `reads ${after - before} >= fio ${r.readIos}`);
    assert.ok(after - before <= r.readIos + 50, `reads ${after - before}: at most a few metadata reads beyond fio's ${r.readIos}`);
  });
  it('attributes requests to the submitting cgroup (blk-cgroup; the v1 blkio hierarchy on hybrid hosts)', async function () {
    const root = blkcgRoot();
    if (!root) this.skip();   // no cgroup hierarchy with block I/O control mounted
    const name = `kotel-blockio-${process.pid}`;
    const dir = join(root!, name);
    mkdirSync(dir);
    try {
      const { result } = await fioProcess(['--name=cg', `--filename=${loop.path}`, '--ioengine=psync', '--direct=1', '--rw=randread',
        '--bs=4k', '--size=32M', '--number_ios=700'], { cgroupProcs: join(dir, 'cgroup.procs') });
      assert.equal(result.readIos, 700);
      const inCgroup = () => [...latestPoints(rx.metrics(), 'linux.block.request.duration',
        { 'system.device': loop.name, 'disk.io.direction': 'read', 'linux.cgroup.path': `/${name}` }).values()]
        .reduce((n, p) => n + (p.point.count ?? 0), 0);
      await rx.waitFor(() => inCgroup() >= result.readIos, { timeoutMs: 15_000, what: `reads attributed to /${name}` });
      assert.equal(await settled(inCgroup), result.readIos, 'exactly fio\'s reads, in its own cgroup');
    } finally {
      rmdirSync(dir);
    }
  });
});

/** On a shortfall: the agent's own kernel counters (issued, completed, unmatched, cgroup overflow, evicted; per CPU). */
function kernelCounters(): string {
  try {
    return `block_stats: ${execFileSync('bpftool', ['-j', 'map', 'dump', 'name', 'block_stats'], { encoding: 'utf8' })}`;
  } catch (err) {
    return `block_stats unreadable: ${(err as Error).message}`;
  }
}

for (const hook of ['raw_tp', 'tracepoint'] as const) {
  describe(`e2e: blockio on the ${hook} fallback, delta temporality, queue time`, function () {
    this.timeout(120_000);
    let rx: OtlpReceiver;
    let agent: AgentProcess;
    let loop: LoopDevice;

    before(async () => {
      loop = loopDevice(64);
      rx = await OtlpReceiver.start({ httpPort: null });
      agent = await startAgent(blockioConfig(rx.grpcEndpoint, `{ hook: ${hook}, temporality: delta, queue_time: true }`));
    });
    after(async () => {
      const code = await agent?.stop();
      await rx?.stop();
      loop?.detach();
      assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
    });

    it('delta points add up to fio\'s I/Os, histogram deltas too', async () => {
      assert.match(agent.stderr(), new RegExp(`blockio\\(${hook}/block_rq_issue\\)`));
      const r = fio(['--name=psync', `--filename=${loop.path}`, '--ioengine=psync', '--direct=1', '--rw=randread', '--bs=4k', '--size=32M', '--number_ios=1500']);
      const attrs = { 'system.device': loop.name, 'disk.io.direction': 'read' };
      // On a shortfall, say where the kernel side counted the missing I/Os (drops by reason).
      const drops = () => pointsOf(rx.metrics(), 'kotel.receiver.dropped', {}).filter(({ point }) => point.value)
        .map(({ point }) => `${JSON.stringify(point.attributes)}=${point.value}`).join(', ') || 'none';
      await rx.waitFor(() => (sumOfDeltas(rx.metrics(), 'system.disk.operations', attrs) ?? 0) >= r.readIos, { timeoutMs: 15_000, what: `${r.readIos} reads (delta)` })
        .catch((e: Error) => { throw new Error(`${e.message}\nreads so far ${sumOfDeltas(rx.metrics(), 'system.disk.operations', attrs)}, drops ${drops()}\n${kernelCounters()}`); });
      await new Promise((res) => setTimeout(res, 2500));
      assert.equal(sumOfDeltas(rx.metrics(), 'system.disk.operations', attrs), r.readIos);
      assert.equal(sumOfDeltas(rx.metrics(), 'linux.block.request.duration', attrs), r.readIos);
      assert.ok(pointsOf(rx.metrics(), 'linux.block.request.duration', attrs).every(({ metric }) => metric.temporality === 'delta'));
    });
  });
}
