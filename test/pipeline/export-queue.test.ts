import assert from 'node:assert/strict';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ExportQueue, type BatchExporter } from '../../src/pipeline/export-queue.ts';

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
});
