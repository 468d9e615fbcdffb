// End to end on the real kernel: fio's io_uring engine → the iouring receiver (submit → complete
// by request pointer, in-kernel histograms) → the agent → OTLP/gRPC. Counts must equal fio's.
import assert from 'node:assert/strict';
import { OtlpReceiver, latestPoints, latestSum, type FoundPoint } from '../support/otlp-receiver.ts';
import { runUring, type UringRun } from './helpers/uring.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { fioProcess, loopDevice, type LoopDevice } from './blockio-fio.ts';
import { boundsNs, layoutFromSettings } from '../../src/pipeline/kernel-histogram.ts';
import { bpfMapsOf } from '../../bench/lib.ts';

const HISTOGRAM = { sub_buckets: 8, min_ns: 1024, max_ns: 1e8 };

function config(endpoint: string): string {
  return `receivers:
  iouring: { histogram: ${JSON.stringify(HISTOGRAM)} }
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
service:
  pipelines:
    metrics: { receivers: [iouring], exporters: [otlp] }
    logs: { receivers: [iouring], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

describe('e2e: io_uring latency histograms per process and opcode match fio', function () {
  this.timeout(120_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let loop: LoopDevice;

  const pointsFor = (pid: number, opcodes: string[]): FoundPoint[] =>
    [...latestPoints(rx.metrics(), 'linux.io_uring.request.duration', (a) => opcodes.includes(String(a['linux.io_uring.opcode'])), { resource: { 'process.pid': pid } }).values()];
  const countFor = (pid: number, opcodes: string[]) => pointsFor(pid, opcodes).reduce((n, p) => n + (p.point.count ?? 0), 0);

  before(async () => {
    loop = loopDevice(64);
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(config(rx.grpcEndpoint));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    loop?.detach();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('prints a ready line naming the attached hook', () => {
    assert.match(agent.stderr(), /ready: receivers .*iouring\((tp_btf|tracepoint)\/io_uring_complete\)/);
  });

  it('fio io_uring 4k random reads, fixed number of I/Os: completions = fio I/Os, per opcode, kernel bounds', async () => {
    const { pid, result } = await fioProcess(['--name=uring', `--filename=${loop.path}`, '--ioengine=io_uring', '--direct=1', '--rw=randread',
      '--bs=4k', '--size=32M', '--iodepth=16', '--number_ios=4000']);
    assert.equal(result.readIos, 4000);
    const reads = ['read', 'readv', 'read_fixed'];
    await rx.waitFor(() => countFor(pid, reads) >= result.readIos, { timeoutMs: 15_000, what: `${result.readIos} io_uring reads of pid ${pid}` });
    assert.equal(countFor(pid, reads), result.readIos);
    assert.equal(countFor(pid, ['write', 'writev', 'write_fixed']), 0, 'no writes classified');
    const [found] = pointsFor(pid, reads);
    const h = found.point;
    assert.equal(found.metric.resource['process.executable.name'], 'fio');
    assert.deepEqual(h.explicitBounds!.map((b) => Math.round(b * 1e9)), boundsNs(layoutFromSettings(HISTOGRAM)));
    assert.equal(h.bucketCounts!.reduce((a, b) => a + b, 0), h.count);
    const mean = h.sum! / h.count!;
    assert.ok(mean > 1e-7 && mean < 0.1, `mean ${mean}`);
    assert.ok(h.min! <= mean && mean <= h.max!);
    // io_uring latency (submit → CQE posted) is at most fio's completion latency plus reaping slack.
    assert.ok(mean * 1e9 <= result.readClatMeanNs * 1.5 + 100_000, `kernel mean ${mean * 1e9} ns vs fio clat ${result.readClatMeanNs} ns`);
  });

  it('fio io_uring writes are counted under write opcodes', async () => {
    const { pid, result } = await fioProcess(['--name=uringw', `--filename=${loop.path}`, '--ioengine=io_uring', '--direct=1', '--rw=randwrite',
      '--bs=4k', '--size=32M', '--iodepth=8', '--number_ios=1500']);
    const writes = ['write', 'writev', 'write_fixed'];
    await rx.waitFor(() => countFor(pid, writes) >= result.writeIos, { timeoutMs: 15_000, what: `${result.writeIos} io_uring writes` });
    assert.equal(countFor(pid, writes), result.writeIos);
  });

  // Behaviours with exact outcomes, from a liburing fixture that reports what it did.
  describe('io_uring behaviours (fixtures/uring.c)', () => {
    const sumFor = (pid: number, name: string, attrs: Record<string, string> = {}) =>
      latestSum(rx.metrics(), name, attrs, { resource: { 'process.pid': pid } }) ?? 0;
    const warnings = (pid: number) => rx.logs().filter((l) => l.resource['process.pid'] === pid && l.severityText === 'WARN');
    const occurrences = (pid: number, match: (body: string) => boolean) =>
      warnings(pid).filter((l) => match(String(l.body))).reduce((n, l) => n + Number(l.attributes['linux.io_uring.occurrences']), 0);
    let run: UringRun | undefined;
    afterEach(async () => { await run?.release(); run = undefined; });

    it('multishot poll: one request observed at its final CQE; the F_MORE CQEs are counted as extra completions', async () => {
      run = await runUring('multishot', 7);
      const { pid, cqes_more: more } = run.report;
      assert.equal(more, 7, 'the fixture saw 7 CQEs with IORING_CQE_F_MORE');
      await rx.waitFor(() => countFor(pid, ['poll_remove']) >= 1 && sumFor(pid, 'linux.io_uring.extra_completions') >= more,
        { timeoutMs: 15_000, what: `multishot poll of pid ${pid}` });
      // One submitted poll = one observation (submit → final CQE, -ECANCELED after poll remove).
      assert.equal(countFor(pid, ['poll_add']), run.report.poll_add);
      assert.equal(countFor(pid, ['poll_remove']), run.report.poll_remove);
      assert.equal(sumFor(pid, 'linux.io_uring.extra_completions', { 'linux.io_uring.completion.kind': 'multishot' }), more);
      assert.equal(sumFor(pid, 'linux.io_uring.errors', { 'linux.io_uring.opcode': 'poll_add', 'error.type': 'ECANCELED' }), 1);
      // Entries were kept and released correctly: the poll's long life is in its observation.
      const [poll] = pointsFor(pid, ['poll_add']);
      assert.ok(poll.point.max! >= poll.point.min!);
      assert.equal(warnings(pid).length, 0, 'a cancellation the application asked for is not a warning');
    });

    it('CQ overflow: overflowed CQEs counted exactly, warned, and not timed', async () => {
      run = await runUring('overflow', 5);
      const { pid, nop, overflowed } = run.report as unknown as { pid: number; nop: number; overflowed: number };
      assert.equal(overflowed, nop - 4);
      await rx.waitFor(() => sumFor(pid, 'linux.io_uring.cq_overflows') >= overflowed && occurrences(pid, (b) => b.includes('overflowed')) >= overflowed,
        { timeoutMs: 15_000, what: `${overflowed} overflows of pid ${pid}` });
      assert.equal(sumFor(pid, 'linux.io_uring.cq_overflows'), overflowed);
      assert.equal(occurrences(pid, (b) => b.includes('completion queue overflowed')), overflowed);
      assert.equal(countFor(pid, ['nop']), nop - overflowed, 'only the CQEs that reached the ring are timed');
    });

    it('failed completions by errno, requests refused at submission, each with warning log records', async () => {
      const n = 3;
      run = await runUring('errors', n);
      const { pid, errors } = run.report;
      assert.deepEqual(errors, { 2: n, 9: n, 22: n }, 'ENOENT, EBADF, EINVAL as the fixture saw them');
      const total = () => occurrences(pid, () => true);
      await rx.waitFor(() => total() >= 3 * n && sumFor(pid, 'linux.io_uring.failed_requests') >= n,
        { timeoutMs: 15_000, what: `failures of pid ${pid}` });
      assert.equal(sumFor(pid, 'linux.io_uring.errors', { 'linux.io_uring.opcode': 'read', 'error.type': 'EBADF' }), n);
      assert.equal(sumFor(pid, 'linux.io_uring.errors', { 'linux.io_uring.opcode': 'openat', 'error.type': 'ENOENT' }), n);
      assert.equal(sumFor(pid, 'linux.io_uring.failed_requests', { 'linux.io_uring.opcode': 'read', 'error.type': 'EINVAL' }), n);
      assert.equal(sumFor(pid, 'linux.io_uring.errors', { 'error.type': 'EINVAL' }), 0, 'a refused request is not also a failed completion');
      // Submitted requests are timed (failures included); refused ones are not.
      assert.equal(countFor(pid, ['read']), run.report.read_badfd);
      assert.equal(countFor(pid, ['openat']), run.report.openat);
      assert.equal(occurrences(pid, (b) => /read request failed: EBADF/.test(b)), n);
      assert.equal(occurrences(pid, (b) => /openat request failed: ENOENT/.test(b)), n);
      assert.equal(occurrences(pid, (b) => /read request refused at submission: EINVAL/.test(b)), n);
    });

    it('IOSQE_ASYNC writes: every punt to io-wq counted', async () => {
      run = await runUring('async', 6);
      const { pid, async: punted, write } = run.report as unknown as { pid: number; async: number; write: number };
      await rx.waitFor(() => countFor(pid, ['write']) >= write && sumFor(pid, 'linux.io_uring.async_work') >= punted,
        { timeoutMs: 15_000, what: `io-wq punts of pid ${pid}` });
      assert.equal(sumFor(pid, 'linux.io_uring.async_work', { 'linux.io_uring.opcode': 'write' }), punted);
      assert.equal(countFor(pid, ['write']), write);
    });

    it('zero-copy sends: the F_MORE CQE ends the request; notifications are extra completions', async () => {
      run = await runUring('sendzc', 4);
      const { pid, send_zc: sends, cqes_notif: notifs } = run.report as unknown as { pid: number; send_zc: number; cqes_notif: number };
      assert.equal(notifs, sends);
      await rx.waitFor(() => countFor(pid, ['send_zc']) >= sends && sumFor(pid, 'linux.io_uring.extra_completions') >= notifs,
        { timeoutMs: 15_000, what: `zero-copy sends of pid ${pid}` });
      assert.equal(countFor(pid, ['send_zc']), sends);
      assert.equal(sumFor(pid, 'linux.io_uring.extra_completions', { 'linux.io_uring.completion.kind': 'notification' }), notifs);
    });
  });
});

// limits.*: the kernel maps get the configured sizes, and what does not fit is counted.
describe('e2e: io_uring map limits are applied and their full-map policy counted', function () {
  this.timeout(120_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let loop: LoopDevice;
  const dropped = (reason: string) =>
    latestSum(rx.metrics(), 'kotel.receiver.dropped', { 'kotel.receiver': 'iouring', 'kotel.reason': reason }, { resource: { 'service.name': 'kotel' } }) ?? 0;
  const uringCount = (pid: number) => [...latestPoints(rx.metrics(), 'linux.io_uring.request.duration', {}, { resource: { 'process.pid': pid } }).values()]
    .reduce((n, p) => n + (p.point.count ?? 0), 0);

  before(async () => {
    loop = loopDevice(64);
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(config(rx.grpcEndpoint).replace('iouring: { histogram:', 'iouring: { limits: { in_flight: 3, series: 1 }, histogram:'));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    loop?.detach();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('sizes the maps before load (in_flight rounded up to a power of two)', () => {
    const maps = new Map(bpfMapsOf(agent.child.pid!).map((m) => [m.name, m.max_entries]));
    assert.equal(maps.get('inflight'), 4);
    assert.equal(maps.get('latency'), 1);
  });

  it('a 4-slot in-flight table under iodepth 16: every request not timed is counted as abandoned', async () => {
    const before = dropped('abandoned_request'), fullBefore = dropped('map_full');
    const { pid, result } = await fioProcess(['--name=tiny', `--filename=${loop.path}`, '--ioengine=io_uring', '--direct=1', '--rw=randread',
      '--bs=4k', '--size=32M', '--iodepth=16', '--number_ios=2000']);
    // Each request is timed, or evicted (abandoned), or completes without a series (map_full: the
    // one series slot may belong to another process). Other processes' io_uring use only adds to
    // the (global) drop counters, never to fio's count.
    const accounted = () => uringCount(pid) + dropped('abandoned_request') - before + dropped('map_full') - fullBefore;
    await rx.waitFor(() => accounted() >= result.readIos, { timeoutMs: 15_000, what: `timed + abandoned + map_full >= ${result.readIos}` });
    assert.ok(uringCount(pid) < result.readIos, `with 4 slots for 16 in flight some requests are evicted (timed ${uringCount(pid)})`);
    assert.ok(dropped('abandoned_request') > before);
  });

  it('one series: a second (process, opcode) is not recorded and counted as map_full', async () => {
    const run = await runUring('errors', 2);   // read and openat: two opcodes, one series slot
    try {
      await rx.waitFor(() => dropped('map_full') >= 2, { timeoutMs: 15_000, what: 'map_full drops' });
      const series = new Set([...latestPoints(rx.metrics(), 'linux.io_uring.request.duration').values()]
        .map((p) => `${p.metric.resource['process.pid']}|${p.point.attributes['linux.io_uring.opcode']}`));
      assert.ok(series.size <= 1, `at most one series exported: ${[...series].join(', ')}`);
    } finally {
      await run.release();
    }
  });
});
