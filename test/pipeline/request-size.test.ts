// Requests stay under what the receiving end accepts: a batch the receiver refuses for its size is sent
// again as halves (never retried whole, never dropped), and the span and log exporters' queues cap the
// items of one request by the encoded size of the previous one.
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExportQueue, isRetryable, isTooLarge, type BatchExporter } from '../../src/pipeline/export-queue.ts';
import { createExporters } from '../../src/pipeline/exporters.ts';
import { serializeSpans } from '../../src/pipeline/otlp-trace-serializer.ts';
import { logRequests, MAX_REQUEST_BYTES, spanRequests } from '../../src/pipeline/request-size.ts';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { OtlpReceiver } from '../support/otlp-receiver.ts';
import { exporterConfig, grpcEndpoints } from '../support/exporter-config.ts';

/** Refuses a request of more than `limit` items the way grpc-go does, records the ones it takes. */
class LimitedExporter implements BatchExporter<number> {
  taken: number[][] = [];
  refused = 0;
  readonly limit: number;
  constructor(limit: number) { this.limit = limit; }
  export(items: number[], done: (r: ExportResult) => void): void {
    if (items.length > this.limit) {
      this.refused++;
      const error = Object.assign(new Error(`8 RESOURCE_EXHAUSTED: Received message larger than max (${items.length * 100} vs. ${this.limit * 100})`), { code: 8 });
      setImmediate(() => done({ code: ExportResultCode.FAILED, error }));
      return;
    }
    this.taken.push(items);
    setImmediate(() => done({ code: ExportResultCode.SUCCESS }));
  }
  async shutdown(): Promise<void> {}
}

const retry = { enabled: true, maxElapsedMs: 60_000, initialBackoffMs: 1 };
const opts = { maxQueueSize: 10_000, batchSize: 1000, maxBatchSize: 1000, delayMs: 5, exportTimeoutMs: 2000, retry };

const resource = resourceFromAttributes({ 'service.name': 'size-test' });
function span(i: number): ReadableSpan {
  const traceId = i.toString(16).padStart(32, '0');
  const ctx = { traceId, spanId: i.toString(16).padStart(16, '0'), traceFlags: TraceFlags.SAMPLED };
  return {
    name: `GET /items/{id}`, kind: SpanKind.SERVER, spanContext: () => ctx,
    startTime: [1_700_000_000, i], endTime: [1_700_000_000, i + 1000], duration: [0, 1000],
    status: { code: SpanStatusCode.UNSET }, attributes: { 'url.path': `/items/${i}`, pad: 'x'.repeat(400) },
    links: [], events: [], ended: true, resource, instrumentationScope: { name: 'kotel/test' },
    droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
  };
}

function logRecord(i: number): ReadableLogRecord {
  return {
    hrTime: [1_700_000_000, i], hrTimeObserved: [1_700_000_000, i], severityText: 'WARN', severityNumber: 13,
    body: `openat("/srv/data/${i}") failed: EACCES ${'x'.repeat(300)}`, resource, instrumentationScope: { name: 'kotel/test' },
    attributes: { 'linux.syscall.name': 'openat', 'file.path': `/srv/data/${i}` }, droppedAttributesCount: 0,
  };
}

function exporterConfigFor(protocol: 'grpc' | 'http/protobuf', rx: OtlpReceiver) {
  return exporterConfig(protocol, protocol === 'grpc' ? grpcEndpoints(rx.grpcEndpoint) : { ...rx.httpUrls });
}

describe('pipeline: requests under the receiver\'s size limit', () => {
  it('knows a refusal for size (gRPC RESOURCE_EXHAUSTED "larger than max", HTTP 413), and does not retry it whole', () => {
    const grpc = Object.assign(new Error('8 RESOURCE_EXHAUSTED: Received message larger than max (5000000 vs. 4194304)'), { code: 8 });
    const quota = Object.assign(new Error('8 RESOURCE_EXHAUSTED: rate limited'), { code: 8 });
    const http = Object.assign(new Error('Payload Too Large'), { code: 413 });
    assert.ok(isTooLarge(grpc) && isTooLarge(http));
    assert.ok(!isTooLarge(quota) && isRetryable(quota), 'a quota refusal stays retryable, as OTLP says');
    assert.ok(!isRetryable(grpc) && !isRetryable(http));
  });

  it('a batch refused for its size is sent as halves until each fits: everything delivered once, splits counted', async () => {
    const ex = new LimitedExporter(150);
    const q = new ExportQueue(ex, opts);
    for (let i = 0; i < 1000; i++) q.push(i);
    await q.flush();
    assert.deepEqual(ex.taken.flat(), Array.from({ length: 1000 }, (_, i) => i), 'every item once, in order');
    assert.ok(ex.taken.every((b) => b.length <= 150));
    assert.equal(q.stats.exported, 1000);
    assert.equal(q.stats.splits, ex.refused);
    assert.ok(q.stats.splits >= 7, `1000 → halves of ≤ 150 takes at least 7 splits, saw ${q.stats.splits}`);
    assert.equal(q.stats.retries, 0);
    assert.equal(q.stats.droppedExportFailed, 0);
  });

  it('one item too large on its own is dropped at once and counted, not retried', async () => {
    const q = new ExportQueue(new LimitedExporter(0), { ...opts, batchSize: 3 });
    for (let i = 0; i < 3; i++) q.push(i);
    await q.flush();
    assert.equal(q.stats.droppedExportFailed, 3);
    assert.equal(q.stats.exportFailures, 3);
    assert.equal(q.stats.retries, 0);
  });

  it('fitItems caps one request, and a full request is sent without waiting for the batch timeout', async () => {
    const ex = new LimitedExporter(Infinity);
    const q = new ExportQueue(ex, { ...opts, delayMs: 60_000, fitItems: () => 64 });
    for (let i = 0; i < 200; i++) q.push(i);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(ex.taken.map((b) => b.length), [64, 64, 64], 'three full requests before the 60 s timeout');
    await q.flush();
    assert.equal(ex.taken.flat().length, 200);
  });

  it('the trace serializer\'s capacity follows the encoded size of the last request', () => {
    serializeSpans(Array.from({ length: 100 }, (_, i) => span(i)));
    const perSpan = serializeSpans(Array.from({ length: 100 }, (_, i) => span(i))).length / 100;
    const fit = spanRequests.fitItems();
    assert.ok(fit * perSpan <= MAX_REQUEST_BYTES && fit * perSpan > MAX_REQUEST_BYTES * 0.8, `${fit} spans of ${perSpan} bytes`);
  });

  for (const protocol of ['grpc', 'http/protobuf'] as const) {
    it(`over real OTLP ${protocol}: a receiver that takes at most 64 KiB gets all 1500 spans of one batch, each once`, async () => {
      const rx = await OtlpReceiver.start({ maxMessageBytes: 64 << 10 });
      try {
        const q = new ExportQueue(createExporters(exporterConfigFor(protocol, rx)).traces(), { ...opts, batchSize: 1500, maxBatchSize: 1500 });
        for (let i = 0; i < 1500; i++) q.push(span(i));
        await q.flush(30_000);
        await q.shutdown();
        const got = rx.spans().map((s) => s.attributes['url.path']);
        assert.equal(got.length, 1500);
        assert.equal(new Set(got).size, 1500, 'no span twice');
        assert.ok(q.stats.splits >= 4, `~750 KB in 64 KiB requests needs splits, saw ${q.stats.splits}`);
        assert.equal(q.stats.droppedExportFailed, 0);
      } finally {
        await rx.stop();
      }
    });
  }

  it('over real OTLP gRPC, log records too: all delivered once under a 64 KiB limit, and their size caps the next requests', async () => {
    const rx = await OtlpReceiver.start({ maxMessageBytes: 64 << 10 });
    logRequests.bytesPerItem = 10_000;   // a value only a measurement replaces
    try {
      const q = new ExportQueue(createExporters(exporterConfigFor('grpc', rx)).logs(), { ...opts, batchSize: 1000, maxBatchSize: 1000 });
      for (let i = 0; i < 1000; i++) q.push(logRecord(i));
      await q.flush(30_000);
      await q.shutdown();
      const got = rx.logs().map((l) => l.attributes['file.path']);
      assert.equal(new Set(got).size, 1000);
      assert.equal(got.length, 1000);
      assert.ok(q.stats.splits >= 1, `~400 KB in 64 KiB requests needs splits, saw ${q.stats.splits}`);
      assert.ok(logRequests.bytesPerItem > 300 && logRequests.bytesPerItem < 1000, `${logRequests.bytesPerItem} bytes per record`);
      assert.ok(logRequests.fitItems() * logRequests.bytesPerItem <= MAX_REQUEST_BYTES);
    } finally {
      await rx.stop();
    }
  });
});
