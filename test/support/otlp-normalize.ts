// Turns OTLP export requests into plain, comparable records: one normaliser for both sources of
// the tests, so that assertions written against OtlpReceiver hold against a real Collector too.
//
// Input is the OTLP/JSON shape (lowerCamelCase field names, enums as integers), either
//  - parsed from OTLP/JSON (the Collector's file exporter, OTLP/HTTP JSON): int64/fixed64 as
//    decimal strings (or numbers), trace/span ids as hex, other bytes as base64; or
//  - a decoded protobuf message turned into an object by protobufjs' toObject with
//    { longs: String, bytes: String, enums: Number }: the same, except ids are base64.
// The `ids` argument says which id encoding the input uses.
//
// Value conventions of the output:
//  - timestamps (…UnixNano) are bigint, always (0n when absent);
//  - int64 attribute values (AnyValue.intValue) are numbers when |v| <= 2^53 - 1
//    (Number.isSafeInteger), otherwise bigint; doubles are numbers;
//  - bytes attribute values are Uint8Array; an empty AnyValue is null;
//  - arrays are arrays, kvlists are plain objects;
//  - trace/span ids are lowercase hex ('' when absent);
//  - data-point counts (count, bucketCounts, zeroCount) are numbers; a point's `value` is a number
//    (an asInt beyond 2^53 loses precision there; `intValue` keeps it exact as bigint).

export type AttrValue =
  | string
  | number
  | boolean
  | bigint
  | Uint8Array
  | null
  | AttrValue[]
  | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;
export type IdEncoding = 'hex' | 'base64';

export interface Scope {
  name: string;
  version: string;
  attributes: Attributes;
}

export interface LogRecord {
  resource: Attributes;
  scope: Scope;
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AttrValue;
  attributes: Attributes;
  traceId: string;
  spanId: string;
  flags: number;
  eventName: string;
  droppedAttributesCount: number;
}

export type MetricType = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary' | 'none';
export type Temporality = 'cumulative' | 'delta';

export interface ExpBuckets {
  offset: number;
  bucketCounts: number[];
}

export interface MetricPoint {
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  flags: number;
  /** sum, gauge */
  value?: number;
  /** sum, gauge: which oneof member carried the value */
  valueType?: 'int' | 'double';
  /** sum, gauge with an integer value: exact */
  intValue?: bigint;
  /** histogram, exponentialHistogram, summary */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** histogram: bucketCounts.length === explicitBounds.length + 1; bucket i is (b[i-1], b[i]] */
  bucketCounts?: number[];
  explicitBounds?: number[];
  /** exponentialHistogram */
  scale?: number;
  zeroCount?: number;
  zeroThreshold?: number;
  positive?: ExpBuckets;
  negative?: ExpBuckets;
  /** summary */
  quantiles?: Array<{ quantile: number; value: number }>;
}

export interface Metric {
  resource: Attributes;
  scope: Scope;
  name: string;
  unit: string;
  description: string;
  type: MetricType;
  /** sum only */
  isMonotonic?: boolean;
  /** sum, histogram, exponentialHistogram (absent when the request said UNSPECIFIED) */
  temporality?: Temporality;
  points: MetricPoint[];
}

export interface SpanEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
  flags: number;
}

export interface Span {
  resource: Attributes;
  scope: Scope;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error */
  status: { code: number; message: string };
  events: SpanEvent[];
  links: SpanLink[];
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

export interface Telemetry {
  logs: LogRecord[];
  metrics: Metric[];
  spans: Span[];
}

// ---------------------------------------------------------------------------------------------
// Field readers over untyped JSON-shaped input.

type J = Record<string, unknown>;

function obj(v: unknown): J {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {};
}
function list(v: unknown): J[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : v == null ? '' : String(v);
}
/** uint32/int32/enum fields: number or decimal string */
function int(v: unknown): number {
  if (v == null || v === '') return 0;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`OTLP: expected an integer, got ${JSON.stringify(v)}`);
  return n;
}
/** 64-bit integer fields (fixed64, int64, sfixed64, uint64): number or decimal string */
function i64(v: unknown): bigint {
  if (v == null || v === '') return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`OTLP: expected a 64-bit integer, got ${v}`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  // protobufjs Long, should a caller skip longs: String
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) return BigInt(String(v));
  throw new Error(`OTLP: expected a 64-bit integer, got ${JSON.stringify(v)}`);
}
/** double fields: number, or "NaN" / "Infinity" / "-Infinity" (and decimal strings) in JSON */
function dbl(v: unknown): number {
  if (v == null || v === '') return 0;
  return typeof v === 'number' ? v : Number(v);
}
function safeInt(b: bigint): number | bigint {
  const n = Number(b);
  return Number.isSafeInteger(n) ? n : b;
}
function id(v: unknown, enc: IdEncoding): string {
  const s = str(v);
  if (s === '') return '';
  return enc === 'hex' ? s.toLowerCase() : Buffer.from(s, 'base64').toString('hex');
}

// ---------------------------------------------------------------------------------------------

/** Decodes one OTLP AnyValue (JSON shape) to plain JS. */
export function anyValue(v: unknown): AttrValue {
  const a = obj(v);
  if ('stringValue' in a) return str(a.stringValue);
  if ('boolValue' in a) return a.boolValue === true || a.boolValue === 'true';
  if ('intValue' in a) return safeInt(i64(a.intValue));
  if ('doubleValue' in a) return dbl(a.doubleValue);
  if ('arrayValue' in a) return list(obj(a.arrayValue).values).map(anyValue);
  if ('kvlistValue' in a) return attributes(obj(a.kvlistValue).values);
  if ('bytesValue' in a) return new Uint8Array(Buffer.from(str(a.bytesValue), 'base64'));
  return null;
}

/** Decodes a repeated KeyValue (JSON shape) to a plain object. */
export function attributes(kvs: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of list(kvs)) out[str(kv.key)] = anyValue(kv.value);
  return out;
}

function scopeOf(v: unknown): Scope {
  const s = obj(v);
  return { name: str(s.name), version: str(s.version), attributes: attributes(s.attributes) };
}

function temporality(v: unknown): Temporality | undefined {
  const t = int(v);
  return t === 1 ? 'delta' : t === 2 ? 'cumulative' : undefined;
}

function basePoint(p: J): MetricPoint {
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: i64(p.startTimeUnixNano),
    timeUnixNano: i64(p.timeUnixNano),
    flags: int(p.flags),
  };
}

function numberPoint(p: J): MetricPoint {
  const out = basePoint(p);
  if ('asInt' in p && p.asInt != null) {
    const b = i64(p.asInt);
    out.value = Number(b);
    out.valueType = 'int';
    out.intValue = b;
  } else if ('asDouble' in p && p.asDouble != null) {
    out.value = dbl(p.asDouble);
    out.valueType = 'double';
  }
  return out;
}

function optionalStats(p: J, out: MetricPoint): void {
  if (p.sum != null) out.sum = dbl(p.sum);
  if (p.min != null) out.min = dbl(p.min);
  if (p.max != null) out.max = dbl(p.max);
}

function histogramPoint(p: J): MetricPoint {
  const out = basePoint(p);
  out.count = Number(i64(p.count));
  optionalStats(p, out);
  out.bucketCounts = (Array.isArray(p.bucketCounts) ? p.bucketCounts : []).map((c) => Number(i64(c)));
  out.explicitBounds = (Array.isArray(p.explicitBounds) ? p.explicitBounds : []).map(dbl);
  return out;
}

function expBuckets(v: unknown): ExpBuckets {
  const b = obj(v);
  return {
    offset: int(b.offset),
    bucketCounts: (Array.isArray(b.bucketCounts) ? b.bucketCounts : []).map((c) => Number(i64(c))),
  };
}

function expHistogramPoint(p: J): MetricPoint {
  const out = basePoint(p);
  out.count = Number(i64(p.count));
  optionalStats(p, out);
  out.scale = int(p.scale);
  out.zeroCount = Number(i64(p.zeroCount));
  out.zeroThreshold = dbl(p.zeroThreshold);
  out.positive = expBuckets(p.positive);
  out.negative = expBuckets(p.negative);
  return out;
}

function summaryPoint(p: J): MetricPoint {
  const out = basePoint(p);
  out.count = Number(i64(p.count));
  out.sum = dbl(p.sum);
  out.quantiles = list(p.quantileValues).map((q) => ({ quantile: dbl(q.quantile), value: dbl(q.value) }));
  return out;
}

/** ExportLogsServiceRequest / LogsData (JSON shape) → one record per log record. */
export function normalizeLogs(req: unknown, ids: IdEncoding): LogRecord[] {
  const out: LogRecord[] = [];
  for (const rl of list(obj(req).resourceLogs)) {
    const resource = attributes(obj(rl.resource).attributes);
    for (const sl of list(rl.scopeLogs)) {
      const scope = scopeOf(sl.scope);
      for (const lr of list(sl.logRecords)) {
        out.push({
          resource,
          scope,
          timeUnixNano: i64(lr.timeUnixNano),
          observedTimeUnixNano: i64(lr.observedTimeUnixNano),
          severityNumber: int(lr.severityNumber),
          severityText: str(lr.severityText),
          body: 'body' in lr ? anyValue(lr.body) : null,
          attributes: attributes(lr.attributes),
          traceId: id(lr.traceId, ids),
          spanId: id(lr.spanId, ids),
          flags: int(lr.flags),
          eventName: str(lr.eventName),
          droppedAttributesCount: int(lr.droppedAttributesCount),
        });
      }
    }
  }
  return out;
}

/** ExportMetricsServiceRequest / MetricsData (JSON shape) → one entry per metric per request. */
export function normalizeMetrics(req: unknown): Metric[] {
  const out: Metric[] = [];
  for (const rm of list(obj(req).resourceMetrics)) {
    const resource = attributes(obj(rm.resource).attributes);
    for (const sm of list(rm.scopeMetrics)) {
      const scope = scopeOf(sm.scope);
      for (const m of list(sm.metrics)) {
        const base = { resource, scope, name: str(m.name), unit: str(m.unit), description: str(m.description) };
        if (m.sum != null) {
          const d = obj(m.sum);
          out.push({
            ...base,
            type: 'sum',
            isMonotonic: d.isMonotonic === true,
            temporality: temporality(d.aggregationTemporality),
            points: list(d.dataPoints).map(numberPoint),
          });
        } else if (m.gauge != null) {
          out.push({ ...base, type: 'gauge', points: list(obj(m.gauge).dataPoints).map(numberPoint) });
        } else if (m.histogram != null) {
          const d = obj(m.histogram);
          out.push({
            ...base,
            type: 'histogram',
            temporality: temporality(d.aggregationTemporality),
            points: list(d.dataPoints).map(histogramPoint),
          });
        } else if (m.exponentialHistogram != null) {
          const d = obj(m.exponentialHistogram);
          out.push({
            ...base,
            type: 'exponentialHistogram',
            temporality: temporality(d.aggregationTemporality),
            points: list(d.dataPoints).map(expHistogramPoint),
          });
        } else if (m.summary != null) {
          out.push({ ...base, type: 'summary', points: list(obj(m.summary).dataPoints).map(summaryPoint) });
        } else {
          out.push({ ...base, type: 'none', points: [] });
        }
      }
    }
  }
  return out;
}

/** ExportTraceServiceRequest / TracesData (JSON shape) → one record per span. */
export function normalizeSpans(req: unknown, ids: IdEncoding): Span[] {
  const out: Span[] = [];
  for (const rs of list(obj(req).resourceSpans)) {
    const resource = attributes(obj(rs.resource).attributes);
    for (const ss of list(rs.scopeSpans)) {
      const scope = scopeOf(ss.scope);
      for (const s of list(ss.spans)) {
        const status = obj(s.status);
        out.push({
          resource,
          scope,
          traceId: id(s.traceId, ids),
          spanId: id(s.spanId, ids),
          parentSpanId: id(s.parentSpanId, ids),
          traceState: str(s.traceState),
          flags: int(s.flags),
          name: str(s.name),
          kind: int(s.kind),
          startTimeUnixNano: i64(s.startTimeUnixNano),
          endTimeUnixNano: i64(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          status: { code: int(status.code), message: str(status.message) },
          events: list(s.events).map((e) => ({
            name: str(e.name),
            timeUnixNano: i64(e.timeUnixNano),
            attributes: attributes(e.attributes),
          })),
          links: list(s.links).map((l) => ({
            traceId: id(l.traceId, ids),
            spanId: id(l.spanId, ids),
            traceState: str(l.traceState),
            attributes: attributes(l.attributes),
            flags: int(l.flags),
          })),
          droppedAttributesCount: int(s.droppedAttributesCount),
          droppedEventsCount: int(s.droppedEventsCount),
          droppedLinksCount: int(s.droppedLinksCount),
        });
      }
    }
  }
  return out;
}

/**
 * One line of the Collector file exporter's JSON output (or any OTLP/JSON document): whichever
 * of resourceLogs / resourceMetrics / resourceSpans it holds. Ids are hex, as OTLP/JSON says.
 */
export function normalizeOtlpJson(doc: unknown): Telemetry {
  const d = obj(doc);
  return {
    logs: 'resourceLogs' in d ? normalizeLogs(d, 'hex') : [],
    metrics: 'resourceMetrics' in d ? normalizeMetrics(d) : [],
    spans: 'resourceSpans' in d ? normalizeSpans(d, 'hex') : [],
  };
}
