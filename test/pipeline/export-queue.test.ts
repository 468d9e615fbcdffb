import assert from 'node:assert/strict';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ExportQueue, isRetryable, type BatchExporter } from '../../src/pipeline/export-queue.ts';
import { queueOptions } from '../../src/pipeline/processors.ts';
import { load, minimal } from '../config/helpers.ts';

class RecordingExporter implements BatchExporter<number> {
  batches: number[][] = [];
  fail = false;
  hang = false;
  export(items: number[], done: (r: ExportResult) => void): void {
    if (this.hang) return;
    this.batches.push(items);
    setImmediate(() => done({ code: this.fail ? ExportResultCode.FAILED : ExportResultCode.SUCCESS, error: this.fail ? new Error('unreachable') : undefined }));
  }
  async shutdown(): Promise<void> {}
}

const opts = { maxQueueSize: 10, batchSize: 4, maxBatchSize: 4, delayMs: 5, exportTimeoutMs: 50 };

describe('pipeline: export queue', () => {
  it('batches by size and by age, and flushes everything', async () => {
    const ex = new RecordingExporter();
    const q = new ExportQueue(ex, opts);
    for (let i = 0; i < 9; i++) q.push(i);
    await q.flush();
    assert.deepEqual(ex.batches.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(ex.batches.every((b) => b.length <= 4));
    assert.equal(q.stats.exported, 9);
  });

  it('counts what a full queue refuses and what failed exports lose', async () => {
    const ex = new RecordingExporter();
    ex.hang = true;
    const q = new ExportQueue(ex, opts);
    for (let i = 0; i < 20; i++) q.push(i);
    // 4 in flight (hung), 10 queued, 6 refused.
    assert.equal(q.stats.droppedQueueFull, 6);
    await q.flush(120);
    assert.ok(q.stats.exportFailures >= 1, 'the hung export timed out');
    // Nothing vanishes: every item is exported or counted as dropped.
    assert.equal(q.stats.droppedQueueFull + q.stats.droppedExportFailed + q.stats.exported, 20);
    assert.equal(q.stats.exported, 0);
    const ex2 = new RecordingExporter();
    ex2.fail = true;
    const q2 = new ExportQueue(ex2, opts);
    for (let i = 0; i < 6; i++) q2.push(i);
    await q2.flush();
    assert.equal(q2.stats.droppedExportFailed, 6);
    assert.equal(q2.stats.exported, 0);
  });

  it('refuses items after shutdown, counted', async () => {
    const q = new ExportQueue(new RecordingExporter(), opts);
    await q.shutdown();
    q.push(1);
    assert.equal(q.stats.droppedQueueFull, 1);
  });

  it('retries transient failures with backoff, and gives up at once on permanent ones', async () => {
    const codes = [14, 14];
    const seen: number[][] = [];
    const flaky: BatchExporter<number> = {
      export(items, done) {
        seen.push(items);
        const code = codes.shift();
        const error = code === undefined ? undefined : Object.assign(new Error('unavailable'), { code });
        setImmediate(() => done({ code: error ? ExportResultCode.FAILED : ExportResultCode.SUCCESS, error }));
      },
      async shutdown() {},
    };
    const q = new ExportQueue(flaky, { ...opts, retry: { enabled: true, maxElapsedMs: 5000, initialBackoffMs: 5, maxBackoffMs: 20 } });
    [1, 2, 3].forEach((i) => q.push(i));
    await q.flush(2000);
    assert.equal(q.stats.retries, 2);
    assert.equal(q.stats.exported, 3);
    assert.equal(seen.length, 3);

    const invalid: BatchExporter<number> = {
      export(_items, done) { setImmediate(() => done({ code: ExportResultCode.FAILED, error: Object.assign(new Error('bad'), { code: 3 }) })); },
      async shutdown() {},
    };
    const q2 = new ExportQueue(invalid, { ...opts, retry: { enabled: true, maxElapsedMs: 5000, initialBackoffMs: 5 } });
    q2.push(1);
    await q2.flush(2000);
    assert.deepEqual([q2.stats.retries, q2.stats.exportFailures, q2.stats.droppedExportFailed], [0, 1, 1]);
  });

  it('knows which OTLP outcomes are retryable', () => {
    const err = (code: unknown) => Object.assign(new Error('x'), { code });
    for (const c of [14, 4, 8, 429, 503, 'ECONNREFUSED']) assert.ok(isRetryable(err(c)), String(c));
    for (const c of [3, 16, 400, 401, 'EINVAL']) assert.ok(!isRetryable(err(c)), String(c));
  });

  it('a batch processor and a sending queue become queue options: the Collector\'s defaults, a disabled queue holds one batch', () => {
    const batchOf = (yaml: string) => Object.values(load(minimal().replace('receivers:', `processors:\n  batch: ${yaml}\nreceivers:`)
      .replace(/(logs: \{ receivers: \[[^\]]*\])/, '$1, processors: [batch]')).processors);
    const shipped = queueOptions(batchOf('{}'), 32_768, 10_000);
    assert.deepEqual([shipped.batchSize, shipped.maxBatchSize, shipped.delayMs, shipped.maxQueueSize], [8192, 8192, 200, 32_768]);
    assert.equal(queueOptions(batchOf('{ send_batch_size: 100, send_batch_max_size: 0 }'), 32_768, 10_000).maxBatchSize, Infinity);
    assert.equal(queueOptions(batchOf('{ send_batch_size: 100 }'), 0, 10_000).maxQueueSize, 100, 'sending_queue.enabled: false');
    const otlp = load(minimal('otlp: { sending_queue: { enabled: false } }')).exporters.otlp;
    assert.equal(otlp.queueSize, 0);
    assert.equal(load(minimal()).exporters.console.queueSize, 32_768, 'the console exporter queues like the others');
  });
});
