// A known sample of logs, metrics and spans, sent with the official OpenTelemetry JS SDK and
// OTLP exporters (gRPC or HTTP/protobuf), and the assertions that a sink decoded it exactly.
// Used by the self-tests of OtlpReceiver and Otelcol, so both are held to the same expectations.

import assert from 'node:assert/strict';
import { context, trace, SpanKind, SpanStatusCode, TraceFlags, ValueType, SeverityNumber } from '@opentelemetry/api';
import type { Attributes as ApiAttributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Attributes, LogRecord, Metric, MetricPoint, Span } from './otlp-normalize.ts';

export type SampleTransport = 'grpc' | 'http';

export interface SampleTarget {
  transport: SampleTransport;
  /** gRPC: 'http://127.0.0.1:PORT' */
  grpcEndpoint?: string;
  /** HTTP: full URLs per signal */
  httpUrls?: { logs: string; metrics: string; traces: string };
  /** default 10000 */
  timeoutMillis?: number;
}

export function logExporter(t: SampleTarget): LogRecordExporter {
  const timeoutMillis = t.timeoutMillis ?? 10_000;
  return t.transport === 'grpc'
    ? new GrpcLogExporter({ url: need(t.grpcEndpoint, 'grpcEndpoint'), timeoutMillis })
    : new ProtoLogExporter({ url: need(t.httpUrls?.logs, 'httpUrls.logs'), timeoutMillis });
}

export function metricExporter(
  t: SampleTarget,
  temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE,
): PushMetricExporter {
  const timeoutMillis = t.timeoutMillis ?? 10_000;
  return t.transport === 'grpc'
    ? new GrpcMetricExporter({ url: need(t.grpcEndpoint, 'grpcEndpoint'), timeoutMillis, temporalityPreference: temporality })
    : new ProtoMetricExporter({ url: need(t.httpUrls?.metrics, 'httpUrls.metrics'), timeoutMillis, temporalityPreference: temporality });
}

export function traceExporter(t: SampleTarget): SpanExporter {
  const timeoutMillis = t.timeoutMillis ?? 10_000;
  return t.transport === 'grpc'
    ? new GrpcTraceExporter({ url: need(t.grpcEndpoint, 'grpcEndpoint'), timeoutMillis })
    : new ProtoTraceExporter({ url: need(t.httpUrls?.traces, 'httpUrls.traces'), timeoutMillis });
}

function need(v: string | undefined, what: string): string {
  if (!v) throw new Error(`sample target: ${what} is required for this transport`);
  return v;
}

/** Exports once through `exporter` and resolves with the result (never rejects). */
export function exportOnce<T>(
  exporter: { export(items: T, cb: (r: ExportResult) => void): void },
  items: T,
): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

export { ExportResultCode };

// ---------------------------------------------------------------------------------------------
// The sample

export const SAMPLE_SCOPE = { name: 'kotel.selftest', version: '0.0.1' };
const T0 = 1_700_000_000; // seconds
export const SAMPLE_TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const SAMPLE_SPAN_ID = 'eee19b7ec3c1b174';

export function sampleResource(runId: string): ApiAttributes {
  return {
    'service.name': 'kotel-selftest',
    'service.version': '1.2.3',
    'process.pid': 4242,
    'process.command_args': ['node', '--flag', 'x y'],
    'kotel.test.run': runId,
    'kotel.test.bool': true,
    'kotel.test.double': 1.5,
  };
}

export interface SentSample {
  runId: string;
  resource: ApiAttributes;
  /** ids of the spans as the SDK generated them */
  spanIds: { server: string; client: string; traceId: string };
}

/** Sends the sample's logs (2 records) through the exporter; resolves when exported. */
export async function sendSampleLogs(exporter: LogRecordExporter, resource: ApiAttributes): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger(SAMPLE_SCOPE.name, SAMPLE_SCOPE.version);
  const ctx = trace.setSpanContext(context.active(), {
    traceId: SAMPLE_TRACE_ID,
    spanId: SAMPLE_SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
  });
  logger.emit({
    timestamp: [T0, 123_456_789],
    observedTimestamp: [T0 + 1, 5],
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: 'disk full',
    attributes: {
      'http.response.status_code': 503,
      'error.flag': true,
      ratio: 0.25,
      tags: ['a', 'b'],
      counts: [1, 2, 3],
      negative: -7,
    },
    context: ctx,
  });
  logger.emit({
    timestamp: [T0, 200],
    severityNumber: SeverityNumber.INFO2,
    severityText: 'info2',
    eventName: 'kotel.selftest.event',
    body: { msg: 'structured', nested: { level: 2, list: [1, 'two', false] }, raw: new Uint8Array([0, 1, 254, 255]) },
    attributes: { 'empty.string': '' },
  });
  await provider.forceFlush();
  await provider.shutdown();
}

/** Sends the sample's metrics (one collection, cumulative) through the exporter. */
export async function sendSampleMetrics(exporter: PushMetricExporter, resource: ApiAttributes): Promise<void> {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [reader],
    views: [{ instrumentName: 'selftest.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter(SAMPLE_SCOPE.name, SAMPLE_SCOPE.version);
  const requests = meter.createCounter('selftest.requests', {
    unit: '{request}',
    description: 'Requests served',
    valueType: ValueType.INT,
  });
  requests.add(3, { route: '/a' });
  requests.add(4, { route: '/a' });
  requests.add(5, { route: '/b', 'http.response.status_code': 200 });
  const queue = meter.createUpDownCounter('selftest.queue', { unit: '{item}' });
  queue.add(10.5);
  queue.add(-3);
  const duration = meter.createHistogram('selftest.duration', {
    unit: 's',
    description: 'How long',
    advice: { explicitBucketBoundaries: [0.1, 1, 10] },
  });
  for (const v of [0.05, 0.1, 0.5, 10, 20]) duration.record(v, { op: 'read' });
  meter.createGauge('selftest.temperature', { unit: 'Cel' }).record(21.5, { sensor: 'cpu0' });
  const exp = meter.createHistogram('selftest.exp', { unit: 'By' });
  for (const v of [1, 2, 4]) exp.record(v);
  await provider.shutdown(); // one final collection and export (forceFlush too would export twice)
}

/** Sends the sample's spans: a server span with an event and a client child. */
export async function sendSampleSpans(
  exporter: SpanExporter,
  resource: ApiAttributes,
): Promise<{ server: string; client: string; traceId: string }> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer(SAMPLE_SCOPE.name, SAMPLE_SCOPE.version);
  const server = tracer.startSpan('GET /a', {
    kind: SpanKind.SERVER,
    startTime: [T0, 1_000],
    attributes: { 'http.request.method': 'GET', 'url.path': '/a', 'server.port': 8080 },
  });
  server.addEvent('exception', { 'exception.message': 'boom' }, [T0, 2_000]);
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  const client = tracer.startSpan(
    'SELECT',
    { kind: SpanKind.CLIENT, startTime: [T0, 1_500] },
    trace.setSpan(context.active(), server),
  );
  client.end([T0, 1_900]);
  server.end([T0 + 2, 0]);
  await provider.forceFlush();
  await provider.shutdown();
  return {
    server: server.spanContext().spanId,
    client: client.spanContext().spanId,
    traceId: server.spanContext().traceId,
  };
}

// ---------------------------------------------------------------------------------------------
// Expectations

function expectedResource(resource: ApiAttributes): Attributes {
  return resource as Attributes; // every sample value is a string, number, boolean or array thereof
}

function scopeOk(got: { name: string; version: string }): void {
  assert.deepEqual({ name: got.name, version: got.version }, SAMPLE_SCOPE);
}

export function checkSampleLogs(logs: LogRecord[], resource: ApiAttributes): void {
  const mine = logs.filter((l) => l.resource['kotel.test.run'] === resource['kotel.test.run']);
  assert.equal(mine.length, 2, `expected the sample's 2 log records, got ${mine.length}`);
  const [a, b] = mine.sort((x, y) => (x.timeUnixNano < y.timeUnixNano ? 1 : -1));
  for (const l of mine) {
    assert.deepEqual(l.resource, expectedResource(resource));
    scopeOk(l.scope);
  }
  assert.equal(a.timeUnixNano, 1_700_000_000_123_456_789n);
  assert.equal(a.observedTimeUnixNano, 1_700_000_001_000_000_005n);
  assert.equal(a.severityNumber, 17);
  assert.equal(a.severityText, 'ERROR');
  assert.equal(a.body, 'disk full');
  assert.deepEqual(a.attributes, {
    'http.response.status_code': 503,
    'error.flag': true,
    ratio: 0.25,
    tags: ['a', 'b'],
    counts: [1, 2, 3],
    negative: -7,
  });
  assert.equal(a.traceId, SAMPLE_TRACE_ID);
  assert.equal(a.spanId, SAMPLE_SPAN_ID);
  assert.equal(a.flags & 0xff, 1, 'trace flags: sampled');

  assert.equal(b.timeUnixNano, 1_700_000_000_000_000_200n);
  assert.ok(b.observedTimeUnixNano > 1_700_000_000_000_000_000n, 'observed time defaults to now');
  assert.equal(b.severityNumber, 10);
  assert.equal(b.severityText, 'info2');
  assert.equal(b.eventName, 'kotel.selftest.event');
  assert.deepEqual(b.body, {
    msg: 'structured',
    nested: { level: 2, list: [1, 'two', false] },
    raw: new Uint8Array([0, 1, 254, 255]),
  });
  assert.deepEqual(b.attributes, { 'empty.string': '' });
  assert.equal(b.traceId, '');
  assert.equal(b.spanId, '');
}

function onlyPoint(metrics: Metric[], name: string): { metric: Metric; points: MetricPoint[] } {
  const found = metrics.filter((m) => m.name === name);
  assert.equal(found.length, 1, `expected metric ${name} once, got ${found.length} entries`);
  const metric = found[0];
  return { metric, points: metric.points };
}

export function checkSampleMetrics(all: Metric[], resource: ApiAttributes): void {
  const metrics = all.filter((m) => m.resource['kotel.test.run'] === resource['kotel.test.run']);
  for (const m of metrics) {
    assert.deepEqual(m.resource, expectedResource(resource));
    scopeOk(m.scope);
  }

  const req = onlyPoint(metrics, 'selftest.requests');
  assert.equal(req.metric.type, 'sum');
  assert.equal(req.metric.unit, '{request}');
  assert.equal(req.metric.description, 'Requests served');
  assert.equal(req.metric.isMonotonic, true);
  assert.equal(req.metric.temporality, 'cumulative');
  const byRoute = Object.fromEntries(req.points.map((p) => [String(p.attributes.route), p]));
  assert.deepEqual(Object.keys(byRoute).sort(), ['/a', '/b']);
  assert.equal(byRoute['/a'].value, 7);
  assert.equal(byRoute['/a'].valueType, 'int');
  assert.equal(byRoute['/a'].intValue, 7n);
  assert.deepEqual(byRoute['/a'].attributes, { route: '/a' });
  assert.equal(byRoute['/b'].value, 5);
  assert.deepEqual(byRoute['/b'].attributes, { route: '/b', 'http.response.status_code': 200 });
  for (const p of req.points) {
    assert.ok(p.startTimeUnixNano > 0n && p.timeUnixNano >= p.startTimeUnixNano, 'point times');
  }

  const queue = onlyPoint(metrics, 'selftest.queue');
  assert.equal(queue.metric.type, 'sum');
  assert.equal(queue.metric.isMonotonic, false);
  assert.equal(queue.points.length, 1);
  assert.equal(queue.points[0].value, 7.5);
  assert.equal(queue.points[0].valueType, 'double');
  assert.deepEqual(queue.points[0].attributes, {});

  const dur = onlyPoint(metrics, 'selftest.duration');
  assert.equal(dur.metric.type, 'histogram');
  assert.equal(dur.metric.unit, 's');
  assert.equal(dur.metric.temporality, 'cumulative');
  assert.equal(dur.points.length, 1);
  const h = dur.points[0];
  assert.deepEqual(h.attributes, { op: 'read' });
  assert.deepEqual(h.explicitBounds, [0.1, 1, 10]);
  // OTLP buckets are upper-inclusive: 0.05, 0.1 | 0.5 | 10 | 20
  assert.deepEqual(h.bucketCounts, [2, 1, 1, 1]);
  assert.equal(h.count, 5);
  assert.ok(Math.abs((h.sum ?? NaN) - 30.65) < 1e-9, `histogram sum ${h.sum}`);
  assert.equal(h.min, 0.05);
  assert.equal(h.max, 20);

  const temp = onlyPoint(metrics, 'selftest.temperature');
  assert.equal(temp.metric.type, 'gauge');
  assert.equal(temp.metric.unit, 'Cel');
  assert.equal(temp.metric.temporality, undefined);
  assert.equal(temp.points.length, 1);
  assert.equal(temp.points[0].value, 21.5);
  assert.deepEqual(temp.points[0].attributes, { sensor: 'cpu0' });

  const exp = onlyPoint(metrics, 'selftest.exp');
  assert.equal(exp.metric.type, 'exponentialHistogram');
  assert.equal(exp.points.length, 1);
  const e = exp.points[0];
  assert.equal(e.count, 3);
  assert.equal(e.sum, 7);
  assert.equal(e.min, 1);
  assert.equal(e.max, 4);
  const inBuckets = (e.positive?.bucketCounts ?? []).reduce((s, c) => s + c, 0) + (e.zeroCount ?? 0);
  assert.equal(inBuckets, 3, 'exponential histogram buckets hold every value');
  assert.equal(typeof e.scale, 'number');
}

export function checkSampleSpans(all: Span[], resource: ApiAttributes, ids: { server: string; client: string; traceId: string }): void {
  const spans = all.filter((s) => s.resource['kotel.test.run'] === resource['kotel.test.run']);
  assert.equal(spans.length, 2, `expected the sample's 2 spans, got ${spans.length}`);
  for (const s of spans) {
    assert.deepEqual(s.resource, expectedResource(resource));
    scopeOk(s.scope);
    assert.equal(s.traceId, ids.traceId);
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
  }
  const server = spans.find((s) => s.name === 'GET /a');
  const client = spans.find((s) => s.name === 'SELECT');
  assert.ok(server && client);
  assert.equal(server.spanId, ids.server);
  assert.equal(server.parentSpanId, '');
  assert.equal(server.kind, 2);
  assert.equal(server.startTimeUnixNano, 1_700_000_000_000_001_000n);
  assert.equal(server.endTimeUnixNano, 1_700_000_002_000_000_000n);
  assert.deepEqual(server.attributes, { 'http.request.method': 'GET', 'url.path': '/a', 'server.port': 8080 });
  assert.deepEqual(server.status, { code: 2, message: 'boom' });
  assert.deepEqual(server.events, [
    { name: 'exception', timeUnixNano: 1_700_000_000_000_002_000n, attributes: { 'exception.message': 'boom' } },
  ]);
  assert.equal(client.spanId, ids.client);
  assert.equal(client.parentSpanId, ids.server);
  assert.equal(client.kind, 3);
  assert.equal(client.startTimeUnixNano, 1_700_000_000_000_001_500n);
  assert.equal(client.endTimeUnixNano, 1_700_000_000_000_001_900n);
  assert.deepEqual(client.status, { code: 0, message: '' });
}
