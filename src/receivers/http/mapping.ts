// An HTTP exchange as a span (semantic conventions for HTTP spans) and the low-cardinality
// attributes of its duration and body-size metrics.
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MonotonicClock } from '../../pipeline/clock.ts';
import { copyBytes, END, KernelSpan, PARENT_ID, SPAN_ID, SpanSlab, START, TRACE_ID, writeWallTime } from '../../pipeline/kernel-span.ts';
import {
  ATTR_CLIENT_ADDRESS, ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL, ATTR_URL_PATH,
  ATTR_URL_QUERY, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL,
} from '../../semconv/attributes.ts';
import { HttpRecord, type HttpExchange } from './decode.ts';
import { HttpEvent, HttpFlag, HttpRole } from './http.layout.ts';
import { isKnownMethod, parseRequestHead, parseResponseHead, splitHost, type RequestHead } from './parse.ts';
import type { PathTemplater } from './templater.ts';

/** Incubating: the template of a client request's path. */
export const ATTR_URL_TEMPLATE = 'url.template';
export const ERROR_CONNECTION_CLOSED = 'connection_closed';
const F = HttpEvent.fields;

export interface MappingOptions {
  templater: PathTemplater;
  captureQuery: boolean;
  captureUserAgent: boolean;
  /** Parsed request heads, reused while the same head repeats (the receiver keeps one; optional). */
  heads?: HeadCache;
}

const NO_ATTRIBUTES: Attributes = Object.freeze({});
const MAX_METRIC_SETS = 4096;

/** A metric attribute set and its series key (both reused by every exchange of the series). */
interface MetricSet { key: string; attributes: Attributes }

/** Metric attribute sets by a compact key of their values (bounded; cleared when full). */
const metricSets = new Map<string, MetricSet>();

/** What an exchange's attribute sets are made of (built only when a cached set is missing). */
interface Facts {
  server: boolean;
  h: HeadInfo;
  status: number;
  scheme: string;
  version: string;
  errorType: string | undefined;
  localPort: number;
  serverAddress: string;
  serverPort: number;
}

function metricSetOf(f: Facts): MetricSet {
  const { server, h, scheme, version, status, errorType } = f;
  const key = server
    ? `s ${h.method} ${scheme} ${version} ${status} ${errorType ?? ''} ${f.localPort} ${h.template}`
    : `c ${h.method} ${scheme} ${version} ${status} ${errorType ?? ''} ${f.serverPort} ${f.serverAddress} ${h.template}`;
  let m = metricSets.get(key);
  if (m) return m;
  if (metricSets.size >= MAX_METRIC_SETS) metricSets.clear();
  const a: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: h.method, [ATTR_URL_SCHEME]: scheme, [ATTR_NETWORK_PROTOCOL_VERSION]: version };
  if (status) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  if (errorType) a[ATTR_ERROR_TYPE] = errorType;
  if (server) {
    a[ATTR_HTTP_ROUTE] = h.template;
    a[ATTR_SERVER_PORT] = f.localPort;
  } else {
    a[ATTR_URL_TEMPLATE] = h.template;
    a[ATTR_SERVER_ADDRESS] = f.serverAddress;
    a[ATTR_SERVER_PORT] = f.serverPort;
  }
  m = { key, attributes: a };
  metricSets.set(key, m);
  return m;
}

/** The span attributes but the peer's: the metric set's keys in the same order, then the span-only ones. */
function sharedSpanAttributes(f: Facts, ex: HttpExchange, opts: MappingOptions): Attributes {
  const { server, h, scheme, status, errorType, serverAddress, serverPort } = f;
  const { req, method, path } = h;
  const a: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_SCHEME]: scheme, [ATTR_NETWORK_PROTOCOL_VERSION]: f.version };
  if (status) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  if (errorType) a[ATTR_ERROR_TYPE] = errorType;
  a[ATTR_URL_PATH] = path;
  if (method === '_OTHER' && req) a[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = h.rawMethod;
  if (opts.captureQuery && req?.query !== undefined) a[ATTR_URL_QUERY] = req.query;
  if (opts.captureUserAgent && req?.userAgent) a[ATTR_USER_AGENT_ORIGINAL] = req.userAgent;
  if (server) {
    a[ATTR_HTTP_ROUTE] = h.template;
    a[ATTR_SERVER_ADDRESS] = h.host?.host ?? ex.localAddress ?? '';
    a[ATTR_SERVER_PORT] = h.host?.port ?? f.localPort;
  } else {
    a[ATTR_URL_TEMPLATE] = h.template;
    a[ATTR_SERVER_ADDRESS] = serverAddress;
    a[ATTR_SERVER_PORT] = serverPort;
    const authority = serverAddress.includes(':') ? `[${serverAddress}]` : serverAddress;
    a[ATTR_URL_FULL] = `${scheme}://${authority}:${serverPort}${path}${opts.captureQuery && req?.query !== undefined ? `?${req.query}` : ''}`;
  }
  return a;
}

/** What a request head alone determines, parsed once per distinct head. */
interface HeadInfo {
  req: RequestHead | undefined;
  rawMethod: string;
  method: string;
  path: string;
  template: string;
  name: string;
  host: { host: string; port: number | undefined } | undefined;
  /** Metric sets of exchanges with this head, by a small-integer key of the other inputs. */
  metricSets: Map<number, MetricSet>;
  /** Shared span attributes of exchanges with this head, by the same key. */
  spanSets: Map<number, Attributes>;
}

/** A parsed head in HeadCache.byKey: its key's bytes, and the next entry with the same hash. */
interface KeyedHead { key: Uint8Array; info: HeadInfo; next: KeyedHead | undefined }

/** Bounded: cleared when full (distinct heads beyond it are parsed each time, as without a cache). */
export class HeadCache {
  readonly map = new Map<string, HeadInfo>();
  /**
   * Records read in place, by a hash of HttpRecord.reqHeadKeyRanges' bytes (compared on a hit): no
   * string per record, whose building and hashing cost more than the rest of a metrics-only record.
   */
  readonly byKey = new Map<number, KeyedHead>();
  keyed = 0;
  readonly max: number;
  readonly ranges = new Int32Array(4);
  constructor(max = 4096) { this.max = max; }
}

/** FNV-1a over two byte ranges of b. */
function hashRanges(b: Uint8Array, r: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = r[0]; i < r[1]; i++) h = Math.imul(h ^ b[i], 0x01000193);
  for (let i = r[2]; i < r[3]; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

function sameRanges(key: Uint8Array, b: Uint8Array, r: Int32Array): boolean {
  const n1 = r[1] - r[0];
  if (key.length !== n1 + r[3] - r[2]) return false;
  for (let i = 0; i < n1; i++) if (key[i] !== b[r[0] + i]) return false;
  for (let i = n1, j = r[2]; j < r[3]; i++, j++) if (key[i] !== b[j]) return false;
  return true;
}

function headInfo(head: string, opts: MappingOptions): HeadInfo {
  const req = parseRequestHead(head, opts.captureUserAgent);
  const rawMethod = req?.method ?? '_OTHER';
  const method = isKnownMethod(rawMethod) ? rawMethod : '_OTHER';
  const path = req?.path || '/';
  const template = opts.templater.template(path);
  return {
    req, rawMethod, method, path, template, name: method === '_OTHER' ? 'HTTP' : `${method} ${template}`,
    host: req?.host ? splitHost(req.host) : undefined, metricSets: new Map(), spanSets: new Map(),
  };
}

function recordHeadInfo(rec: HttpRecord, cache: HeadCache, opts: MappingOptions): HeadInfo {
  const r = cache.ranges, b = rec.buf;
  rec.reqHeadKeyRanges(r);
  const hash = hashRanges(b, r);
  const first = cache.byKey.get(hash);
  for (let e = first; e; e = e.next) if (sameRanges(e.key, b, r)) return e.info;
  if (cache.keyed >= cache.max) { cache.byKey.clear(); cache.keyed = 0; }
  const key = new Uint8Array(r[1] - r[0] + r[3] - r[2]);
  key.set(b.subarray(r[0], r[1]));
  key.set(b.subarray(r[2], r[3]), r[1] - r[0]);
  const info = headInfo(rec.reqHead, opts);
  cache.byKey.set(hash, { key, info, next: cache.byKey.get(hash) });
  cache.keyed++;
  return info;
}

function headInfoOf(ex: HttpExchange, opts: MappingOptions): HeadInfo {
  const cache = opts.heads;
  if (!cache) return headInfo(ex.reqHead, opts);
  // The user agent is read from anywhere in the head: then the whole head is the key.
  if (ex instanceof HttpRecord && !opts.captureUserAgent) return recordHeadInfo(ex, cache, opts);
  const key = ex.reqHead;
  let h = cache.map.get(key);
  if (h) return h;
  if (cache.map.size >= cache.max) cache.map.clear();
  h = headInfo(key, opts);
  cache.map.set(key, h);
  return h;
}

export interface MappedExchange {
  server: boolean;
  name: string;
  /** Attributes for the duration and body-size metrics (low cardinality; shared, do not modify). */
  metricAttributes: Attributes;
  /** Identifies metricAttributes (the histogram series key). */
  metricKey: string;
  /**
   * The span's attributes in two parts: those many exchanges share (reused objects, encoded once by
   * the serializer) and this exchange's own (the peer). Both empty when withSpan was false.
   */
  spanShared: Attributes;
  spanOwn: Attributes;
  /** Both parts as one object (built on each read). */
  readonly spanAttributes: Attributes;
  error: boolean;
  requestBodySize: number | undefined;
  responseBodySize: number | undefined;
}

export function mapExchange(ex: HttpExchange, opts: MappingOptions, withSpan = true): MappedExchange {
  const server = ex.role === HttpRole.HTTP_ROLE_SERVER;
  const h = headInfoOf(ex, opts);
  const { req, host } = h;
  const resp = ex instanceof HttpRecord ? ex.responseLine() : ex.respHead ? parseResponseHead(ex.respHead) : undefined;
  const status = resp?.status ?? (ex.status || 0);
  const flags = ex.flags;
  const closed = (flags & HttpFlag.HTTP_F_CLOSED) !== 0;
  const tls = (flags & HttpFlag.HTTP_F_TLS) !== 0;
  const scheme = tls ? 'https' : 'http';
  const version = req?.version || resp?.version || '1.1';
  let errorType: string | undefined;
  if (closed && !status) errorType = ERROR_CONNECTION_CLOSED;
  else if (status >= 500 || (!server && status >= 400)) errorType = String(status);
  else if (closed) errorType = ERROR_CONNECTION_CLOSED;

  const peerAddress = ex.peerAddress;
  const peerPort = ex.peerPort;
  const localPort = ex.localPort;
  const serverAddress = server ? '' : host?.host ?? peerAddress ?? '';
  const serverPort = server ? 0 : host?.port ?? peerPort;
  // The head fixes method, route, version and (for a client with a Host header) the server address;
  // the rest fits one small integer: status (10 bits), closed, TLS, port (16 bits). Attribute objects
  // are built only on a miss (no closure or object per exchange otherwise).
  const cacheable = !!req?.version && status < 1024 && (server || !!host);
  const n = cacheable ? ((((status * 2 + (closed ? 1 : 0)) * 2 + (tls ? 1 : 0)) * 65536) + (server ? localPort : serverPort)) * (server ? 1 : -1) - (server ? 0 : 1) : 0;
  let f: Facts | undefined;
  let metric = cacheable ? h.metricSets.get(n) : undefined;
  if (!metric) {
    f = { server, h, status, scheme, version, errorType, localPort, serverAddress, serverPort };
    metric = metricSetOf(f);
    if (cacheable) h.metricSets.set(n, metric);
  }

  let spanShared = NO_ATTRIBUTES, spanOwn = NO_ATTRIBUTES;
  if (withSpan) {
    // A server without a Host header names its local address: not shared then.
    const shareable = cacheable && host !== undefined;
    spanShared = (shareable && h.spanSets.get(n)) || NO_ATTRIBUTES;
    if (spanShared === NO_ATTRIBUTES) {
      f ??= { server, h, status, scheme, version, errorType, localPort, serverAddress, serverPort };
      spanShared = sharedSpanAttributes(f, ex, opts);
      if (shareable) h.spanSets.set(n, spanShared);
    }
    spanOwn = !peerAddress ? { [ATTR_NETWORK_PEER_PORT]: peerPort }
      : server ? { [ATTR_NETWORK_PEER_ADDRESS]: peerAddress, [ATTR_NETWORK_PEER_PORT]: peerPort, [ATTR_CLIENT_ADDRESS]: peerAddress }
      : { [ATTR_NETWORK_PEER_ADDRESS]: peerAddress, [ATTR_NETWORK_PEER_PORT]: peerPort };
  }
  const reqHdrEnd = ex.reqHdrEnd, respHdrEnd = ex.respHdrEnd;
  return new Mapped(server, h.name, metric, spanShared, spanOwn, errorType !== undefined,
    reqHdrEnd ? Math.max(0, ex.reqBytes - reqHdrEnd) : undefined, respHdrEnd ? Math.max(0, ex.respBytes - respHdrEnd) : undefined);
}

class Mapped implements MappedExchange {
  readonly server: boolean;
  readonly name: string;
  readonly metricAttributes: Attributes;
  readonly metricKey: string;
  readonly spanShared: Attributes;
  readonly spanOwn: Attributes;
  readonly error: boolean;
  readonly requestBodySize: number | undefined;
  readonly responseBodySize: number | undefined;

  constructor(server: boolean, name: string, metric: MetricSet, spanShared: Attributes, spanOwn: Attributes, error: boolean,
    requestBodySize: number | undefined, responseBodySize: number | undefined) {
    this.server = server;
    this.name = name;
    this.metricAttributes = metric.attributes;
    this.metricKey = metric.key;
    this.spanShared = spanShared;
    this.spanOwn = spanOwn;
    this.error = error;
    this.requestBodySize = requestBodySize;
    this.responseBodySize = responseBodySize;
  }

  get spanAttributes(): Attributes { return { ...this.spanShared, ...this.spanOwn }; }
}

/** The span's place in a slab: ids (binary when the record is at hand, else from hex) and Unix times. */
function fillIds(ex: HttpExchange, slab: SpanSlab, at: number): void {
  if (ex instanceof HttpRecord) {
    copyBytes(ex.buf, ex.o + F.trace_id.offset, slab.bytes, at + TRACE_ID, 16);
    copyBytes(ex.buf, ex.o + F.span_id.offset, slab.bytes, at + SPAN_ID, 8);
    copyBytes(ex.buf, ex.o + F.parent_id.offset, slab.bytes, at + PARENT_ID, 8);
    return;
  }
  slab.bytes.set(Buffer.from(ex.traceId, 'hex').subarray(0, 16), at + TRACE_ID);
  slab.bytes.set(Buffer.from(ex.spanId, 'hex').subarray(0, 8), at + SPAN_ID);
  slab.bytes.fill(0, at + PARENT_ID, at + PARENT_ID + 8);
  if (ex.parentId) slab.bytes.set(Buffer.from(ex.parentId, 'hex').subarray(0, 8), at + PARENT_ID);
}

function newSpan(ex: HttpExchange, m: MappedExchange, slab: SpanSlab, at: number, resource: Resource, scope: InstrumentationScope): KernelSpan {
  return new KernelSpan(m.name, m.server ? SpanKind.SERVER : SpanKind.CLIENT, m.spanShared, m.spanOwn,
    m.error ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, (ex.flags & HttpFlag.HTTP_F_REMOTE_PARENT) !== 0, slab, at, resource, scope);
}

/** The span of a record in a batch: ids copied as bytes, kernel times converted to Unix ns without BigInt. */
export function recordSpan(rec: HttpRecord, m: MappedExchange, clock: MonotonicClock, slab: SpanSlab, resource: Resource, scope: InstrumentationScope): KernelSpan {
  const at = slab.take();
  fillIds(rec, slab, at);
  writeWallTime(rec.view, rec.o + F.start_ns.offset, slab.view, at + START, clock.offsetLo, clock.offsetHi);
  writeWallTime(rec.view, rec.o + F.end_ns.offset, slab.view, at + END, clock.offsetLo, clock.offsetHi);
  return newSpan(rec, m, slab, at, resource, scope);
}

const defaultSlab = new SpanSlab();

/** The span of any exchange with explicit start and end times. */
export function exchangeSpan(ex: HttpExchange, m: MappedExchange, startTime: HrTime, endTime: HrTime, resource: Resource, scope: InstrumentationScope): KernelSpan {
  const at = defaultSlab.take();
  fillIds(ex, defaultSlab, at);
  defaultSlab.view.setBigUint64(at + START, BigInt(startTime[0]) * 1_000_000_000n + BigInt(startTime[1]), true);
  defaultSlab.view.setBigUint64(at + END, BigInt(endTime[0]) * 1_000_000_000n + BigInt(endTime[1]), true);
  return newSpan(ex, m, defaultSlab, at, resource, scope);
}
