// ExportTraceServiceRequest protobuf written in one pass from spans, for the official OTLP trace
// exporters (they take a serializer; transport, retries, compression, headers and TLS stay theirs).
// Faster than the generic serializer where kotel's spans allow it: KernelSpan ids and times are
// copied as bytes (no hex round trip), each Resource and scope is encoded once and reused while the
// object lives, attribute keys are encoded once. Any other ReadableSpan is written field by field.
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { ProtobufTraceSerializer, type ISerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { END, KernelSpan, PARENT_ID, SPAN_ID, START, TRACE_ID } from './kernel-span.ts';
import { ProtobufWriter, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf-writer.ts';
import { spanRequests } from './request-size.ts';

// Span.flags (trace.proto): W3C trace flags in the low byte, then "has is_remote" and "is_remote".
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;
const MAX_CACHED_KEYS = 1024;
const MAX_VALUES_PER_KEY = 256;
const MAX_CACHED_VALUE_LENGTH = 64;

/** Per attribute name: `KeyValue.key` (field 1) with tag and length, and whole KeyValues of its frequent short string values. */
interface KeyCache { key: Uint8Array; values: Map<string, Uint8Array> }
const keys = new Map<string, KeyCache>();

function keyCache(key: string): KeyCache {
  let c = keys.get(key);
  if (c) return c;
  const w = new ProtobufWriter(key.length * 3 + 8);
  w.tag(1, WIRE_LEN);
  w.string(key);
  c = { key: w.finish(), values: new Map() };
  if (keys.size < MAX_CACHED_KEYS) keys.set(key, c);
  return c;
}

/** KeyValue body (key + AnyValue with a string) for a cached name, encoded once per distinct short value. */
function stringKeyValue(c: KeyCache, value: string): Uint8Array | undefined {
  let b = c.values.get(value);
  if (b || value.length > MAX_CACHED_VALUE_LENGTH || c.values.size >= MAX_VALUES_PER_KEY) return b;
  const w = new ProtobufWriter(c.key.length + value.length * 3 + 8);
  w.all(c.key);
  w.tag(2, WIRE_LEN);
  const at = w.begin(1);
  w.tag(1, WIRE_LEN);
  w.string(value);
  w.end(at, 1);
  b = w.finish();
  c.values.set(value, b);
  return b;
}

function writeAnyValue(w: ProtobufWriter, v: AttributeValue | Attributes | null | undefined): void {
  if (typeof v === 'string') { w.tag(1, WIRE_LEN); w.string(v); }
  else if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) { w.tag(3, WIRE_VARINT); w.int64(v); }
    else { w.tag(4, WIRE_FIXED64); w.double(v); }
  } else if (typeof v === 'boolean') { w.tag(2, WIRE_VARINT); w.varint(v ? 1 : 0); }
  else if (v instanceof Uint8Array) { w.tag(7, WIRE_LEN); w.bytes(v); }
  else if (Array.isArray(v)) {
    w.tag(5, WIRE_LEN);
    const arr = w.begin(1);
    for (const item of v) {
      w.tag(1, WIRE_LEN);
      const at = w.begin(1);
      writeAnyValue(w, item);
      w.end(at, 1);
    }
    w.end(arr, 1);
  } else if (v !== null && typeof v === 'object') {
    w.tag(6, WIRE_LEN);
    const list = w.begin(1);
    writeAttributes(w, v as Attributes, 1);
    w.end(list, 1);
  }
}

function writeAttributes(w: ProtobufWriter, attrs: Attributes, field: number): void {
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    const v = attrs[key];
    const c = keyCache(key);
    w.tag(field, WIRE_LEN);
    if (typeof v === 'string') {
      const kv = stringKeyValue(c, v);
      if (kv) { w.varint(kv.length); w.all(kv); continue; }
    }
    const kv = w.begin(1);
    w.raw(c.key, 0, c.key.length);
    w.tag(2, WIRE_LEN);
    const val = w.begin(1);
    writeAnyValue(w, v);
    w.end(val, 1);
    w.end(kv, 1);
  }
}

/**
 * The bytes `write` produces for an immutable object (a Resource, a scope, a shared attribute set),
 * encoded on first use and reused while the object lives. `write` is a module-level function: no
 * closure per call on the per-span path.
 */
function encodedOnce<K extends object>(cache: WeakMap<K, Uint8Array>, key: K, size: number, write: (w: ProtobufWriter, key: K) => void): Uint8Array {
  let b = cache.get(key);
  if (b) return b;
  const w = new ProtobufWriter(size);
  write(w, key);
  b = w.finish();
  cache.set(key, b);
  return b;
}

/** Span attributes (field 9) many spans share, encoded once per object. */
const sharedSpanAttributes = new WeakMap<Attributes, Uint8Array>();
const writeSpanAttributes = (w: ProtobufWriter, attrs: Attributes) => writeAttributes(w, attrs, 9);

function writeSharedSpanAttributes(w: ProtobufWriter, attrs: Attributes): void {
  w.all(encodedOnce(sharedSpanAttributes, attrs, 512, writeSpanAttributes));
}

function writeHrTime(w: ProtobufWriter, t: HrTime): void {
  const ns = BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
  w.ensure(8);
  w.view.setBigUint64(w.pos, BigInt.asUintN(64, ns), true);
  w.pos += 8;
}

function hexBytes(w: ProtobufWriter, field: number, hex: string): void {
  w.tag(field, WIRE_LEN);
  const b = Buffer.from(hex, 'hex');
  w.bytes(new Uint8Array(b.buffer, b.byteOffset, b.length));
}

// Resource and scope messages (ResourceSpans.resource, ScopeSpans.scope), encoded once per object.
const resourceBytes = new WeakMap<Resource, Uint8Array>();
const scopeBytes = new WeakMap<InstrumentationScope, Uint8Array>();

function writeResource(w: ProtobufWriter, r: Resource): void {
  w.tag(1, WIRE_LEN);
  const at = w.begin(2);
  writeAttributes(w, r.attributes, 1);
  w.end(at, 2);
}

function writeScope(w: ProtobufWriter, s: InstrumentationScope): void {
  w.tag(1, WIRE_LEN);
  const at = w.begin(1);
  w.tag(1, WIRE_LEN); w.string(s.name);
  if (s.version) { w.tag(2, WIRE_LEN); w.string(s.version); }
  const attrs = (s as { attributes?: Attributes }).attributes;
  if (attrs) writeAttributes(w, attrs, 3);
  w.end(at, 1);
}

const encodedResource = (r: Resource) => encodedOnce(resourceBytes, r, 1024, writeResource);
const encodedScope = (s: InstrumentationScope) => encodedOnce(scopeBytes, s, 256, writeScope);

function writeStatus(w: ProtobufWriter, code: number, message: string | undefined): void {
  w.tag(15, WIRE_LEN);
  const at = w.begin(1);
  if (message) { w.tag(2, WIRE_LEN); w.string(message); }
  w.tag(3, WIRE_VARINT);
  w.varint(code);
  w.end(at, 1);
}

function writeKernelSpan(w: ProtobufWriter, s: KernelSpan): void {
  const b = s.bytes, at = s.at;
  w.tag(1, WIRE_LEN); w.varint(16); w.raw(b, at + TRACE_ID, 16);
  w.tag(2, WIRE_LEN); w.varint(8); w.raw(b, at + SPAN_ID, 8);
  const parent = s.hasParent;
  if (parent) { w.tag(4, WIRE_LEN); w.varint(8); w.raw(b, at + PARENT_ID, 8); }
  w.tag(5, WIRE_LEN); w.string(s.name);
  w.tag(6, WIRE_VARINT); w.varint(s.kind + 1);
  w.tag(7, WIRE_FIXED64); w.raw(b, at + START, 8);
  w.tag(8, WIRE_FIXED64); w.raw(b, at + END, 8);
  writeSharedSpanAttributes(w, s.sharedAttributes);
  writeAttributes(w, s.ownAttributes, 9);
  writeStatus(w, s.statusCode, undefined);
  w.tag(16, WIRE_FIXED32);
  w.fixed32(1 | FLAGS_HAS_IS_REMOTE | (parent && s.parentIsRemote ? FLAGS_IS_REMOTE : 0));
}

function writeAnySpan(w: ProtobufWriter, s: ReadableSpan): void {
  const ctx = s.spanContext();
  hexBytes(w, 1, ctx.traceId);
  hexBytes(w, 2, ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) { w.tag(3, WIRE_LEN); w.string(traceState); }
  if (s.parentSpanContext?.spanId) hexBytes(w, 4, s.parentSpanContext.spanId);
  w.tag(5, WIRE_LEN); w.string(s.name);
  if (s.kind != null) { w.tag(6, WIRE_VARINT); w.varint(s.kind + 1); }
  w.tag(7, WIRE_FIXED64); writeHrTime(w, s.startTime);
  w.tag(8, WIRE_FIXED64); writeHrTime(w, s.endTime);
  writeAttributes(w, s.attributes, 9);
  if (s.droppedAttributesCount) { w.tag(10, WIRE_VARINT); w.varint(s.droppedAttributesCount); }
  for (const e of s.events) {
    w.tag(11, WIRE_LEN);
    const at = w.begin(1);
    w.tag(1, WIRE_FIXED64); writeHrTime(w, e.time);
    w.tag(2, WIRE_LEN); w.string(e.name);
    if (e.attributes) writeAttributes(w, e.attributes, 3);
    if (e.droppedAttributesCount) { w.tag(4, WIRE_VARINT); w.varint(e.droppedAttributesCount); }
    w.end(at, 1);
  }
  if (s.droppedEventsCount) { w.tag(12, WIRE_VARINT); w.varint(s.droppedEventsCount); }
  for (const l of s.links) {
    w.tag(13, WIRE_LEN);
    const at = w.begin(1);
    hexBytes(w, 1, l.context.traceId);
    hexBytes(w, 2, l.context.spanId);
    const ts = l.context.traceState?.serialize();
    if (ts) { w.tag(3, WIRE_LEN); w.string(ts); }
    if (l.attributes) writeAttributes(w, l.attributes, 4);
    if (l.droppedAttributesCount) { w.tag(5, WIRE_VARINT); w.varint(l.droppedAttributesCount); }
    w.tag(6, WIRE_FIXED32); w.fixed32((l.context.traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (l.context.isRemote ? FLAGS_IS_REMOTE : 0));
    w.end(at, 1);
  }
  if (s.droppedLinksCount) { w.tag(14, WIRE_VARINT); w.varint(s.droppedLinksCount); }
  writeStatus(w, s.status.code, s.status.message);
  w.tag(16, WIRE_FIXED32);
  w.fixed32((ctx.traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (s.parentSpanContext?.isRemote ? FLAGS_IS_REMOTE : 0));
}

/** Spans grouped by resource, then scope (object identity, as the official serializer does). */
function group(spans: ReadableSpan[]): Map<Resource, Map<InstrumentationScope, ReadableSpan[]>> {
  const byResource = new Map<Resource, Map<InstrumentationScope, ReadableSpan[]>>();
  let lastResource: Resource | undefined, lastScope: InstrumentationScope | undefined, last: ReadableSpan[] | undefined;
  for (const s of spans) {
    // Consecutive spans usually share both: skip the map lookups then.
    if (s.resource === lastResource && s.instrumentationScope === lastScope) { last!.push(s); continue; }
    let byScope = byResource.get(s.resource);
    if (!byScope) byResource.set(s.resource, byScope = new Map());
    let list = byScope.get(s.instrumentationScope);
    if (!list) byScope.set(s.instrumentationScope, list = []);
    list.push(s);
    lastResource = s.resource; lastScope = s.instrumentationScope; last = list;
  }
  return byResource;
}

/**
 * The writer starts at about the size the request will need (bytes per span of the last request): each
 * doubling of a multi-megabyte array is external memory V8 answers with full collections, which cost the
 * agent more than the encoding under a steady span load. The same figure caps the spans of a request.
 */
export function serializeSpans(spans: ReadableSpan[], w = new ProtobufWriter(Math.max(1024, Math.ceil(spans.length * spanRequests.bytesPerItem * 1.05) + 512))): Uint8Array {
  for (const [resource, byScope] of group(spans)) {
    w.tag(1, WIRE_LEN);                                    // ExportTraceServiceRequest.resource_spans
    const rs = w.begin(4);
    const r = encodedResource(resource);
    w.all(r);                                              // ResourceSpans.resource
    for (const [scope, list] of byScope) {
      w.tag(2, WIRE_LEN);                                  // ResourceSpans.scope_spans
      const ss = w.begin(4);
      const sc = encodedScope(scope);
      w.all(sc);                                           // ScopeSpans.scope
      for (const s of list) {
        w.tag(2, WIRE_LEN);                                // ScopeSpans.spans
        const at = w.begin(2);
        if (s instanceof KernelSpan) writeKernelSpan(w, s); else writeAnySpan(w, s);
        w.end(at, 2);
      }
      if (scope.schemaUrl) { w.tag(3, WIRE_LEN); w.string(scope.schemaUrl); }
      w.end(ss, 4);
    }
    if (resource.schemaUrl) { w.tag(3, WIRE_LEN); w.string(resource.schemaUrl); }
    w.end(rs, 4);
  }
  spanRequests.observe(spans.length, w.pos);
  return w.finish();
}

/** The serializer for createOtlpGrpcExportDelegate / createOtlpHttpExportDelegate. */
export const kotelTraceSerializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans) => serializeSpans(spans),
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};
