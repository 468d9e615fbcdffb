// Self-test of the in-process OTLP receiver: real exports from the official OpenTelemetry JS
// exporters (gRPC and HTTP/protobuf) must decode exactly.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { latestPoints, latestSum, OtlpReceiver, sumOfDeltas } from './otlp-receiver.ts';
import {
  checkSampleLogs,
  checkSampleMetrics,
  checkSampleSpans,
  ExportResultCode,
  logExporter,
  metricExporter,
  sampleResource,
  sendSampleLogs,
  sendSampleMetrics,
  sendSampleSpans,
  traceExporter,
} from './otlp-sample.ts';
import type { SampleTarget, SampleTransport } from './otlp-sample.ts';

/** Wraps an exporter to record every export result it reports. */
function recording<T extends LogRecordExporter | SpanExporter>(inner: T, results: ExportResult[]): T {
  const wrapped = Object.create(inner) as T;
  wrapped.export = ((items: never[], cb: (r: ExportResult) => void) =>
    inner.export(items, (r: ExportResult) => {
      results.push(r);
      cb(r);
    })) as T['export'];
  return wrapped;
}

function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('OtlpReceiver', function () {
  this.timeout(30_000);
  let rx: OtlpReceiver | undefined;
  afterEach(async () => {
    await rx?.stop();
    rx = undefined;
  });

  const target = (r: OtlpReceiver, transport: SampleTransport): SampleTarget => ({
    transport,
    grpcEndpoint: r.grpcEndpoint,
    httpUrls: r.httpUrls,
  });

  it('listens on 127.0.0.1 with gRPC and HTTP endpoints', async () => {
    rx = await OtlpReceiver.start();
    assert.match(rx.grpcEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(rx.httpEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(rx.grpcPort, rx.httpPort);
    assert.equal(rx.httpUrls.metrics, `${rx.httpEndpoint}/v1/metrics`);
  });

  for (const transport of ['grpc', 'http'] as const) {
    it(`decodes logs, metrics and spans sent by the official ${transport} exporters exactly`, async () => {
      rx = await OtlpReceiver.start();
      const t = target(rx, transport);
      const resource = sampleResource(randomUUID());
      await sendSampleLogs(logExporter(t), resource);
      await sendSampleMetrics(metricExporter(t), resource);
      const ids = await sendSampleSpans(traceExporter(t), resource);

      checkSampleLogs(rx.logs(), resource);
      checkSampleMetrics(rx.metrics(), resource);
      checkSampleSpans(rx.spans(), resource, ids);

      const other = transport === 'grpc' ? 'http' : 'grpc';
      assert.equal(rx.requests.logs[transport], 2, 'one request per log record (simple processor)');
      assert.equal(rx.requests.metrics[transport], 1);
      assert.equal(rx.requests.traces[transport], 2);
      assert.equal(rx.requests.logs[other] + rx.requests.metrics[other] + rx.requests.traces[other], 0);
      assert.equal(rx.requests.total, 5);
      assert.equal(rx.requests.rejected, 0);
      assert.deepEqual(rx.errors, []);
      assert.equal(latestSum(rx.metrics(), 'selftest.requests', { route: '/a' }), 7);
      assert.equal(latestSum(rx.metrics(), 'selftest.requests'), 12);
    });
  }

  it('failFirst: the gRPC exporter sees UNAVAILABLE (retryable), and the data is not kept', async () => {
    rx = await OtlpReceiver.start({ failFirst: 1 });
    const results: ExportResult[] = [];
    const exporter = recording(logExporter(target(rx, 'grpc')), results);
    await sendSampleLogs(exporter, sampleResource(randomUUID()));
    assert.equal(results.length, 2);
    const failed = results.filter((r) => r.code === ExportResultCode.FAILED);
    assert.equal(failed.length, 1, 'the JS gRPC exporter does not retry: one export fails');
    assert.equal((failed[0].error as grpc.ServiceError | undefined)?.code, grpc.status.UNAVAILABLE);
    assert.match(String(failed[0].error?.message), /failFirst/);
    assert.equal(rx.logs().length, 1);
    assert.deepEqual(rx.requests.logs, { grpc: 2, http: 0, rejected: 1 });
    assert.equal(rx.requests.rejected, 1);
  });

  it('failFirst: the HTTP exporter gets 503 (retryable) and retries until accepted', async () => {
    rx = await OtlpReceiver.start({ failFirst: 2 });
    const results: ExportResult[] = [];
    const resource = sampleResource(randomUUID());
    const ids = await sendSampleSpans(recording(traceExporter(target(rx, 'http')), results), resource);
    assert.deepEqual(
      results.map((r) => r.code),
      [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
    );
    checkSampleSpans(rx.spans(), resource, ids); // each span exactly once
    assert.deepEqual(rx.requests.traces, { grpc: 0, http: 4, rejected: 2 });
  });

  it('failFirst beyond the exporter\'s retries: the HTTP export fails after 1 + 5 attempts', async () => {
    rx = await OtlpReceiver.start({ failFirst: 100 });
    const results: ExportResult[] = [];
    const provider = new LoggerProvider({
      processors: [new SimpleLogRecordProcessor({ exporter: recording(logExporter(target(rx, 'http')), results) })],
    });
    provider.getLogger('x').emit({ body: 'refused' });
    await provider.forceFlush();
    await provider.shutdown();
    assert.equal(results.length, 1);
    assert.equal(results[0].code, ExportResultCode.FAILED);
    assert.deepEqual(rx.requests.logs, { grpc: 0, http: 6, rejected: 6 });
    assert.equal(rx.logs().length, 0);
  });

  it('failNext refuses further exports on demand; clear() forgets data and counters', async () => {
    rx = await OtlpReceiver.start();
    const resource = sampleResource(randomUUID());
    await sendSampleLogs(logExporter(target(rx, 'grpc')), resource);
    assert.equal(rx.logs().length, 2);
    rx.clear();
    assert.equal(rx.logs().length, 0);
    assert.equal(rx.requests.total, 0);
    rx.failNext(2);
    const results: ExportResult[] = [];
    await sendSampleLogs(recording(logExporter(target(rx, 'grpc')), results), resource);
    assert.deepEqual(results.map((r) => r.code), [ExportResultCode.FAILED, ExportResultCode.FAILED]);
    await sendSampleLogs(logExporter(target(rx, 'grpc')), resource);
    checkSampleLogs(rx.logs(), resource);
  });

  it('latestSum / sumOfDeltas follow temporality, per stream (resource + attributes)', async () => {
    rx = await OtlpReceiver.start();
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      for (const service of ['a', 'b']) {
        const reader = new PeriodicExportingMetricReader({
          exporter: metricExporter(target(rx, 'grpc'), temporality),
          exportIntervalMillis: 3_600_000,
        });
        const provider = new MeterProvider({
          resource: resourceFromAttributes({ 'service.name': service }),
          readers: [reader],
        });
        const name = temporality === AggregationTemporality.DELTA ? 'd.count' : 'c.count';
        const counter = provider.getMeter('m').createCounter(name);
        counter.add(3, { k: 'x' });
        await provider.forceFlush();
        counter.add(4, { k: 'x' });
        counter.add(1, { k: 'y' });
        await provider.forceFlush();
        await provider.shutdown();
      }
    }
    const m = rx.metrics();
    // cumulative: last points are x=7, y=1 for each of 2 services
    assert.equal(latestSum(m, 'c.count', { k: 'x' }), 14);
    assert.equal(latestSum(m, 'c.count', { k: 'x' }, { resource: { 'service.name': 'a' } }), 7);
    assert.equal(latestSum(m, 'c.count'), 16);
    assert.equal(latestSum(m, 'c.count', (a) => a.k === 'y'), 2);
    assert.equal(latestSum(m, 'c.count', { k: 'nope' }), undefined);
    assert.equal(latestPoints(m, 'c.count').size, 4);
    assert.throws(() => sumOfDeltas(m, 'c.count'), /not delta; use latestSum/);
    // delta: increments 3 then 4 (x) and 1 (y), per service
    assert.equal(sumOfDeltas(m, 'd.count', { k: 'x' }), 14);
    assert.equal(sumOfDeltas(m, 'd.count', undefined, { resource: { 'service.name': 'b' } }), 8);
    assert.throws(() => latestSum(m, 'd.count'), /delta temporality; use sumOfDeltas/);
  });

  it('accepts OTLP/JSON over HTTP (hex ids, int64 as strings; beyond 2^53 as bigint)', async () => {
    rx = await OtlpReceiver.start();
    const body = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json' } }] },
          scopeLogs: [
            {
              scope: { name: 's', version: '1' },
              logRecords: [
                {
                  timeUnixNano: '1700000000000000001',
                  severityNumber: 13,
                  body: { kvlistValue: { values: [{ key: 'n', value: { intValue: '9007199254740993' } }] } },
                  attributes: [
                    { key: 'small', value: { intValue: '-42' } },
                    { key: 'inf', value: { doubleValue: 'Infinity' } },
                    { key: 'empty', value: {} },
                  ],
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'eee19b7ec3c1b174',
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await post(rx.httpUrls.logs, JSON.stringify(body), { 'content-type': 'application/json' });
    assert.equal(res.status, 200);
    const [log] = rx.logs();
    assert.equal(log.timeUnixNano, 1_700_000_000_000_000_001n);
    assert.equal(log.observedTimeUnixNano, 0n);
    assert.equal(log.severityNumber, 13);
    assert.deepEqual(log.body, { n: 9_007_199_254_740_993n });
    assert.deepEqual(log.attributes, { small: -42, inf: Infinity, empty: null });
    assert.equal(log.traceId, '5b8efff798038103d269b633813fc60c');
    assert.deepEqual(log.resource, { 'service.name': 'json' });
    assert.deepEqual(log.scope, { name: 's', version: '1', attributes: {} });
  });

  it('answers bad requests with errors and records why', async () => {
    rx = await OtlpReceiver.start();
    assert.equal((await post(`${rx.httpEndpoint}/v1/nope`, 'x', {})).status, 404);
    const bad = await post(rx.httpUrls.metrics, Buffer.from([0x0a, 0xff, 0xff]), {
      'content-type': 'application/x-protobuf',
    });
    assert.equal(bad.status, 400);
    assert.equal(rx.errors.length, 1);
    assert.match(rx.errors[0], /http metrics: cannot decode/);
    await assert.rejects(
      rx.waitFor(() => rx!.metrics().length > 0, { timeoutMs: 50, what: 'a metric that never comes' }),
      /OtlpReceiver: timed out after 50 ms waiting for a metric that never comes[\s\S]*requests: logs grpc=0[\s\S]*errors: http metrics/,
    );
  });

  it('waitFor resolves once the predicate holds, and reports a throwing predicate', async () => {
    rx = await OtlpReceiver.start();
    const r = rx;
    const t = target(r, 'grpc');
    const waiting = r.waitFor(() => r.spans().length === 2, { what: 'two spans' });
    const sending = sendSampleSpans(traceExporter(t), sampleResource(randomUUID()));
    await Promise.all([waiting, sending]);
    await assert.rejects(
      r.waitFor(
        () => {
          assert.equal(r.spans().length, 3);
          return true;
        },
        { timeoutMs: 60, what: 'three spans' },
      ),
      /waiting for three spans\nlast predicate error: Expected values to be strictly equal/,
    );
  });
});
