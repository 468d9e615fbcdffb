// An in-process OTLP receiver for kotel's tests: a real OTLP/gRPC server (grpc-js) and a real
// OTLP/HTTP server (node:http; POST /v1/logs, /v1/metrics, /v1/traces with protobuf or JSON,
// optionally gzip/deflate), both decoding the wire format with kotel's own .proto subset
// (test/support/otlp-proto/) and keeping every export as normalised records.
//
//   const rx = await OtlpReceiver.start({ failFirst: 1 });
//   exporter url: rx.grpcEndpoint ('http://127.0.0.1:PORT') or rx.httpUrls.logs ('…/v1/logs')
//   await rx.waitFor(() => rx.logs().length >= 3, { what: '3 log records' });
//   await rx.stop();
//
// Value conventions (bigint timestamps, int64 attributes as numbers when safe, hex ids…):
// see otlp-normalize.ts.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { normalizeLogs, normalizeMetrics, normalizeSpans } from './otlp-normalize.ts';
import type { IdEncoding, LogRecord, Metric, Span } from './otlp-normalize.ts';
import { otlpCodecs, SIGNALS } from './otlp-proto.ts';
import type { Signal, SignalCodec } from './otlp-proto.ts';

export type { AttrValue, Attributes, LogRecord, Metric, MetricPoint, Scope, Span } from './otlp-normalize.ts';
export { attrKey, latestPoints, latestSum, matchesAttrs, pointsOf, sumOfDeltas } from './otlp-metrics.ts';
export type { AttrFilter, FoundPoint, MetricQuery } from './otlp-metrics.ts';
export type { Signal } from './otlp-proto.ts';

export type Transport = 'grpc' | 'http';

export interface OtlpReceiverOptions {
  /** 0 (default) picks a free port; null disables the gRPC server */
  grpcPort?: number | null;
  /** 0 (default) picks a free port; null disables the HTTP server */
  httpPort?: number | null;
  /** default 127.0.0.1 */
  host?: string;
  /**
   * Answer the first N export requests (all signals and transports together) with a retryable
   * error instead of accepting them: gRPC UNAVAILABLE (14), HTTP 503. Their data is not kept.
   */
  failFirst?: number;
  /** Retry-After header (seconds) on the HTTP 503s; default 0 = "retry at once" for the JS exporter */
  retryAfterSeconds?: number | null;
  /** largest accepted request, both transports; default 64 MiB */
  maxMessageBytes?: number;
}

export interface RequestCounts {
  /** requests received on each transport, refused ones included */
  grpc: number;
  http: number;
  /** of those, answered with the failFirst/failNext error */
  rejected: number;
}

export interface ReceiverRequests {
  logs: RequestCounts;
  metrics: RequestCounts;
  traces: RequestCounts;
  /** all requests received (accepted + rejected + undecodable) */
  total: number;
  rejected: number;
}

export interface WaitOptions {
  /** default 10000 */
  timeoutMs?: number;
  /** what is awaited, for the failure message */
  what?: string;
  /** poll interval, default 20 ms */
  intervalMs?: number;
}

/**
 * Polls `predicate` until it returns true (a throw counts as false; its message is reported).
 * On timeout, rejects with an Error naming `what` and `describe()`'s summary.
 */
export async function pollUntil(
  predicate: () => boolean,
  opts: WaitOptions,
  describe: () => string,
  who: string,
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (predicate()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const why = lastError === undefined ? '' : `\nlast predicate error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`${who}: timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'the condition'}${why}\n${describe()}`);
}

function emptyCounts(): ReceiverRequests {
  const c = (): RequestCounts => ({ grpc: 0, http: 0, rejected: 0 });
  return { logs: c(), metrics: c(), traces: c(), total: 0, rejected: 0 };
}

type Outcome = { ok: true } | { ok: false; retryable: boolean; message: string };

export class OtlpReceiver {
  /** 'http://127.0.0.1:PORT' for the JS gRPC exporters' url (or '' when disabled) */
  grpcEndpoint = '';
  /** 'http://127.0.0.1:PORT' (no path) (or '' when disabled) */
  httpEndpoint = '';
  /** full OTLP/HTTP URLs, as the JS http/proto exporters' `url` wants them */
  httpUrls: Record<Signal, string> = { logs: '', metrics: '', traces: '' };
  grpcPort = 0;
  httpPort = 0;
  /** request counters; reset by clear() */
  requests: ReceiverRequests = emptyCounts();
  /** requests that could not be decoded (the answer was an error), with the reason */
  errors: string[] = [];

  #logs: LogRecord[] = [];
  #metrics: Metric[] = [];
  #spans: Span[] = [];
  #failBudget = 0;
  #retryAfter: number | null = 0;
  #maxBytes = 64 << 20;
  #grpc: grpc.Server | undefined;
  #http: http.Server | undefined;
  #codecs = otlpCodecs();
  #stopped = false;

  private constructor() {}

  static async start(opts: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
    const rx = new OtlpReceiver();
    const host = opts.host ?? '127.0.0.1';
    rx.#failBudget = opts.failFirst ?? 0;
    rx.#retryAfter = opts.retryAfterSeconds === undefined ? 0 : opts.retryAfterSeconds;
    if (opts.maxMessageBytes !== undefined) rx.#maxBytes = opts.maxMessageBytes;
    try {
      if (opts.grpcPort !== null) await rx.#startGrpc(host, opts.grpcPort ?? 0);
      if (opts.httpPort !== null) await rx.#startHttp(host, opts.httpPort ?? 0);
    } catch (err) {
      await rx.stop();
      throw err;
    }
    return rx;
  }

  /** Log records received so far (a copy), in arrival order. */
  logs(): LogRecord[] {
    return this.#logs.slice();
  }
  /** Metrics received so far (a copy): one entry per metric per export request. */
  metrics(): Metric[] {
    return this.#metrics.slice();
  }
  /** Spans received so far (a copy), in arrival order. */
  spans(): Span[] {
    return this.#spans.slice();
  }

  /** Refuse the next n export requests too (retryable error), e.g. to simulate an outage. */
  failNext(n: number): void {
    this.#failBudget += n;
  }

  /** Forget everything received and reset the counters (a remaining failFirst budget stays). */
  clear(): void {
    this.#logs = [];
    this.#metrics = [];
    this.#spans = [];
    this.requests = emptyCounts();
    this.errors = [];
  }

  waitFor(predicate: () => boolean, opts: WaitOptions = {}): Promise<void> {
    return pollUntil(predicate, opts, () => this.describe(), 'OtlpReceiver');
  }

  /** A summary of what was received, for failure messages. */
  describe(): string {
    const names = [...new Set(this.#metrics.map((m) => `${m.name}(${m.type})`))];
    const shown = names.slice(0, 40).join(', ') + (names.length > 40 ? `, … ${names.length - 40} more` : '');
    const r = this.requests;
    const req = SIGNALS.map((s) => `${s} grpc=${r[s].grpc} http=${r[s].http} rejected=${r[s].rejected}`).join('; ');
    return [
      `received: ${this.#logs.length} log records, ${this.#spans.length} spans, ${this.#metrics.length} metric entries [${shown}]`,
      `requests: ${req}`,
      ...(this.errors.length ? [`errors: ${this.errors.slice(-5).join(' | ')}`] : []),
    ].join('\n');
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const tasks: Promise<void>[] = [];
    const g = this.#grpc;
    if (g) {
      tasks.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            g.forceShutdown();
            resolve();
          }, 500);
          g.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        }),
      );
    }
    const h = this.#http;
    if (h) {
      tasks.push(new Promise<void>((resolve) => h.close(() => resolve())));
      h.closeAllConnections();
    }
    await Promise.all(tasks);
  }

  // -------------------------------------------------------------------------------------------

  /** Counts the request, applies the fail budget, decodes and keeps the data. */
  #accept(signal: Signal, transport: Transport, decode: () => unknown, ids: IdEncoding): Outcome {
    const counts = this.requests[signal];
    counts[transport]++;
    this.requests.total++;
    if (this.#failBudget > 0) {
      this.#failBudget--;
      counts.rejected++;
      this.requests.rejected++;
      return { ok: false, retryable: true, message: 'kotel test receiver: refusing this export (failFirst/failNext)' };
    }
    try {
      const req = decode();
      if (signal === 'logs') this.#logs.push(...normalizeLogs(req, ids));
      else if (signal === 'metrics') this.#metrics.push(...normalizeMetrics(req));
      else this.#spans.push(...normalizeSpans(req, ids));
      return { ok: true };
    } catch (err) {
      const message = `${transport} ${signal}: cannot decode the request: ${err instanceof Error ? err.message : String(err)}`;
      this.errors.push(message);
      return { ok: false, retryable: false, message };
    }
  }

  async #startGrpc(host: string, port: number): Promise<void> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.#maxBytes,
      'grpc.max_send_message_length': this.#maxBytes,
    });
    for (const signal of SIGNALS) {
      const codec = this.#codecs[signal];
      const definition: grpc.ServiceDefinition = {
        Export: {
          path: codec.grpcPath,
          requestStream: false,
          responseStream: false,
          // Keep the raw bytes: decoding happens in the handler, where a failure can be answered.
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Uint8Array) => Buffer.from(b),
          responseDeserialize: (b: Buffer) => b,
        },
      };
      const handler: grpc.handleUnaryCall<Buffer, Uint8Array> = (call, callback) => {
        const out = this.#accept(signal, 'grpc', () => codec.decodeRequest(call.request), 'base64');
        if (out.ok) callback(null, codec.emptyResponse());
        else {
          callback({
            code: out.retryable ? grpc.status.UNAVAILABLE : grpc.status.INVALID_ARGUMENT,
            details: out.message,
          });
        }
      };
      server.addService(definition, { Export: handler as grpc.UntypedHandleCall });
    }
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(new Error(`OtlpReceiver: cannot bind gRPC on ${host}:${port}: ${err.message}`)) : resolve(p),
      );
    });
    this.#grpc = server;
    this.grpcPort = bound;
    this.grpcEndpoint = `http://${hostForUrl(host)}:${bound}`;
  }

  async #startHttp(host: string, port: number): Promise<void> {
    const byPath = new Map<string, SignalCodec>(SIGNALS.map((s) => [this.#codecs[s].httpPath, this.#codecs[s]]));
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const codec = byPath.get(url.pathname);
      if (!codec) return void reply(res, 404, 'text/plain', `no OTLP endpoint at ${url.pathname}`);
      if (req.method !== 'POST') return void reply(res, 405, 'text/plain', 'POST only', { allow: 'POST' });
      const chunks: Buffer[] = [];
      let size = 0;
      let tooBig = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.#maxBytes) tooBig = true;
        else chunks.push(c);
      });
      req.on('error', () => res.destroy());
      req.on('end', () => {
        if (tooBig) return void reply(res, 413, 'text/plain', `request larger than ${this.#maxBytes} bytes`);
        this.#handleHttp(codec, req, res, Buffer.concat(chunks));
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`OtlpReceiver: cannot listen for HTTP on ${host}:${port}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    this.#http = server;
    this.httpPort = (server.address() as AddressInfo).port;
    this.httpEndpoint = `http://${hostForUrl(host)}:${this.httpPort}`;
    for (const s of SIGNALS) this.httpUrls[s] = `${this.httpEndpoint}${this.#codecs[s].httpPath}`;
  }

  #handleHttp(codec: SignalCodec, req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const json = type === 'application/json';
    const decode = (): unknown => {
      const enc = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
      const body =
        enc === 'gzip' ? zlib.gunzipSync(raw) : enc === 'deflate' ? zlib.inflateSync(raw) : enc === 'identity' ? raw : undefined;
      if (body === undefined) throw new Error(`unsupported Content-Encoding ${enc}`);
      if (json) return JSON.parse(body.toString('utf8'));
      if (type !== 'application/x-protobuf') throw new Error(`unsupported Content-Type ${type || '(none)'}`);
      return codec.decodeRequest(body);
    };
    const out = this.#accept(codec.signal, 'http', decode, json ? 'hex' : 'base64');
    if (out.ok) {
      if (json) reply(res, 200, 'application/json', '{}');
      else reply(res, 200, 'application/x-protobuf', codec.emptyResponse());
    } else if (out.retryable) {
      const headers: Record<string, string> = {};
      // 0 is sent as an HTTP-date of now: the JS exporter then retries at once (the delta-seconds
      // form "0" makes it call setTimeout(-1), which Node warns about).
      if (this.#retryAfter === 0) headers['retry-after'] = new Date().toUTCString();
      else if (this.#retryAfter !== null) headers['retry-after'] = String(this.#retryAfter);
      reply(res, 503, 'text/plain', out.message, headers);
    } else {
      reply(res, 400, 'text/plain', out.message);
    }
  }
}

function reply(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
