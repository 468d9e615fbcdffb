// End to end on the real kernel: fio's io_uring engine → the iouring receiver (submit → complete
// by request pointer, in-kernel histograms) → the agent → OTLP/gRPC. Counts must equal fio's.
import assert from 'node:assert/strict';
import { OtlpReceiver, latestPoints, type FoundPoint } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { fioProcess, loopDevice, type LoopDevice } from './blockio-fio.ts';
import { boundsNs, layoutFromSettings } from '../../src/pipeline/kernel-histogram.ts';

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
});
