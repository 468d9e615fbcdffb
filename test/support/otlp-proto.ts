// Loads kotel's own OTLP v1 .proto subset (test/support/otlp-proto/) with protobufjs and gives
// per-signal codecs: protobuf bytes ⇄ decoded message, and message → OTLP/JSON-shaped object.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export type Signal = 'logs' | 'metrics' | 'traces';
export const SIGNALS: readonly Signal[] = ['logs', 'metrics', 'traces'];

export const PROTO_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'otlp-proto');

const SERVICE_FILES: Record<Signal, string> = {
  logs: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  metrics: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  traces: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
};

const NAMES: Record<Signal, { pkg: string; service: string; request: string; response: string }> = {
  logs: {
    pkg: 'opentelemetry.proto.collector.logs.v1',
    service: 'LogsService',
    request: 'ExportLogsServiceRequest',
    response: 'ExportLogsServiceResponse',
  },
  metrics: {
    pkg: 'opentelemetry.proto.collector.metrics.v1',
    service: 'MetricsService',
    request: 'ExportMetricsServiceRequest',
    response: 'ExportMetricsServiceResponse',
  },
  traces: {
    pkg: 'opentelemetry.proto.collector.trace.v1',
    service: 'TraceService',
    request: 'ExportTraceServiceRequest',
    response: 'ExportTraceServiceResponse',
  },
};

export interface SignalCodec {
  signal: Signal;
  /** gRPC method path, e.g. /opentelemetry.proto.collector.logs.v1.LogsService/Export */
  grpcPath: string;
  /** OTLP/HTTP path, e.g. /v1/logs */
  httpPath: string;
  request: protobuf.Type;
  response: protobuf.Type;
  /** protobuf bytes → OTLP/JSON-shaped object (ids and other bytes base64, 64-bit ints as strings) */
  decodeRequest(bytes: Uint8Array): unknown;
  /** OTLP/JSON-shaped object (as decodeRequest returns) → protobuf bytes */
  encodeRequest(obj: Record<string, unknown>): Uint8Array;
  /** an empty (full success) Export…ServiceResponse */
  emptyResponse(): Uint8Array;
}

let cached: Record<Signal, SignalCodec> | undefined;

export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
  arrays: true,
  objects: false,
  oneofs: false,
  json: false,
};

/** The three signals' codecs (loaded once per process). */
export function otlpCodecs(): Record<Signal, SignalCodec> {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(Object.values(SERVICE_FILES), { keepCase: false });
  root.resolveAll();
  const make = (signal: Signal): SignalCodec => {
    const n = NAMES[signal];
    const request = root.lookupType(`${n.pkg}.${n.request}`);
    const response = root.lookupType(`${n.pkg}.${n.response}`);
    root.lookupService(`${n.pkg}.${n.service}`); // fails loudly if the service is missing
    const empty = response.encode(response.create({})).finish();
    return {
      signal,
      grpcPath: `/${n.pkg}.${n.service}/Export`,
      httpPath: `/v1/${signal}`,
      request,
      response,
      decodeRequest: (bytes) => request.toObject(request.decode(bytes), TO_OBJECT_OPTIONS),
      encodeRequest: (obj) => request.encode(request.fromObject(obj)).finish(),
      emptyResponse: () => empty,
    };
  };
  cached = { logs: make('logs'), metrics: make('metrics'), traces: make('traces') };
  return cached;
}
