import assert from 'node:assert/strict';
import { blockioReceiver } from '../../../src/receivers/blockio/blockio.ts';
import { iouringReceiver } from '../../../src/receivers/iouring/iouring.ts';
import { MonotonicClock } from '../../../src/pipeline/clock.ts';
import { ProcessCache } from '../../../src/pipeline/processes.ts';

type WithLoaded = { loaded?: { object: { programStats(): Array<{ name: string }> } } };
const loadedPrograms = (r: unknown) => (r as WithLoaded).loaded!.object.programStats().map((p) => p.name).sort();

describe('blockio / iouring: lifecycle and checks', () => {
  it('blockio loads only the programs it attaches: the insert hooks only with queue_time', async function () {
    if (process.getuid?.() !== 0) this.skip();   // loading BPF needs root
    const started = async (settings: object) => {
      const r = blockioReceiver.create({
        id: 'blockio', settings: settings as never, processes: new ProcessCache(), clock: new MonotonicClock(),
        selfTelemetry: { addSource() {} } as never, diag: { info() {}, warn() {} } as never, metricsIntervalMs: 1000,
      });
      await r.start();
      try { return loadedPrograms(r); } finally { await r.shutdown(); }
    };
    assert.deepEqual(await started({}), ['block_rq_complete_btf', 'block_rq_issue_btf']);
    assert.deepEqual(await started({ queue_time: true }), ['block_rq_complete_btf', 'block_rq_insert_btf', 'block_rq_issue_btf']);
  });

  for (const factory of [blockioReceiver, iouringReceiver]) {
    it(`${factory.type}: shutdown is idempotent and safe without start; collect before start is empty`, async () => {
      const r = factory.create({
        id: factory.type, settings: {} as never, processes: new ProcessCache(), clock: new MonotonicClock(),
        selfTelemetry: { addSource() {} } as never, diag: { info() {}, warn() {} } as never, metricsIntervalMs: 1000,
      });
      assert.deepEqual(r.collectMetrics!([0, 0]), []);
      await r.shutdown();
      await r.shutdown();
    });

    it(`${factory.type}: check reports the histogram layout and the hooks`, () => {
      const items = factory.check({} as never);
      assert.ok(items.some((i) => i.what === 'histogram' && i.ok));
      const bad = factory.check({ histogram: { sub_buckets: 16, min_ns: 16, max_ns: 2 ** 50 } } as never);
      assert.ok(bad.some((i) => i.what === 'histogram' && !i.ok && /exceed/.test(i.detail)));
    });
  }
});
