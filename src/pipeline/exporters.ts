// Builds the official OpenTelemetry JS exporters for one configured exporter id.
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ConsoleLogRecordExporter, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ConsoleMetricExporter, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExportDelegate } from '@opentelemetry/otlp-grpc-exporter-base';
import { LogsExporterMetricsHelper, ProtobufLogsSerializer, TraceExporterMetricsHelper, type IExportLogsServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ExporterConfig, Signal } from '../config/index.ts';
import { kotelTraceSerializer } from './otlp-trace-serializer.ts';
import { logRequests } from './request-size.ts';

export interface SignalExporters {
  logs(): LogRecordExporter;
  metrics(): PushMetricExporter;
  traces(): SpanExporter;
}

function grpcCredentials(cfg: ExporterConfig, url: string): ChannelCredentials {
  if (cfg.insecure || url.startsWith('http://')) return credentials.createInsecure();
  const read = (p?: string) => (p ? readFileSync(p) : null);
  return credentials.createSsl(read(cfg.caFile), read(cfg.keyFile), read(cfg.certFile));
}

function grpcOptions(cfg: ExporterConfig, signal: Signal, url: string) {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(cfg.signalHeaders?.[signal] ?? cfg.headers)) metadata.set(k, v);
  return {
    url,
    metadata,
    credentials: grpcCredentials(cfg, url),
    compression: cfg.compression as never,
    timeoutMillis: cfg.timeoutMs,
  };
}

// The official log and trace exporters (exporter-{logs,trace}-otlp-grpc / -proto) are these delegates with
// the official serializers. Spans get kotel's serializer, which writes the same messages several times faster
// from its kernel spans; log records the official one, wrapped to note the bytes per record that cap the
// records of a request. Everything else (transport, TLS, compression, headers) is theirs.
const measuredLogSerializer: ISerializer<ReadableLogRecord[], IExportLogsServiceResponse> = {
  serializeRequest(records) {
    const bytes = ProtobufLogsSerializer.serializeRequest(records);
    if (bytes) logRequests.observe(records.length, bytes.length);
    return bytes;
  },
  deserializeResponse: (data) => ProtobufLogsSerializer.deserializeResponse(data),
};

const OTLP_SIGNALS = {
  traces: {
    name: 'TRACES', path: 'v1/traces', serializer: kotelTraceSerializer, helper: TraceExporterMetricsHelper, component: 'span',
    grpcService: 'TraceExportService', grpcMethod: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  },
  logs: {
    name: 'LOGS', path: 'v1/logs', serializer: measuredLogSerializer, helper: LogsExporterMetricsHelper, component: 'log',
    grpcService: 'LogsExportService', grpcMethod: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  },
} as const;

function otlpExporter<T>(cfg: ExporterConfig, signal: keyof typeof OTLP_SIGNALS): OTLPExporterBase<T> {
  const s = OTLP_SIGNALS[signal];
  // One table for both signals: the serializer and metrics helper are typed per signal, T by the caller.
  const serializer = s.serializer as unknown as ISerializer<never, unknown>, helper = s.helper as never;
  const url = cfg.endpoints[signal];
  return new OTLPExporterBase<T>(cfg.protocol === 'grpc'
    ? createOtlpGrpcExportDelegate(convertLegacyOtlpGrpcOptions(grpcOptions(cfg, signal, url), s.name), serializer,
      `otlp_grpc_${s.component}_exporter`, helper, undefined, s.grpcService, s.grpcMethod)
    : createOtlpHttpExportDelegate(convertLegacyHttpOptions(httpOptions(cfg, signal, url), s.name, s.path, { 'Content-Type': 'application/x-protobuf' }),
      serializer, `otlp_http_${s.component}_exporter`, helper, undefined));
}

function httpOptions(cfg: ExporterConfig, signal: Signal, url: string) {
  return { url, headers: { ...(cfg.signalHeaders?.[signal] ?? cfg.headers) }, compression: cfg.compression as never, timeoutMillis: cfg.timeoutMs, keepAlive: true };
}

export function createExporters(cfg: ExporterConfig): SignalExporters {
  switch (cfg.protocol) {
    case 'grpc':
      return {
        logs: () => otlpExporter<ReadableLogRecord[]>(cfg, 'logs'),
        metrics: () => new GrpcMetricExporter(grpcOptions(cfg, 'metrics', cfg.endpoints.metrics)),
        traces: () => otlpExporter<ReadableSpan[]>(cfg, 'traces'),
      };
    case 'http/protobuf':
      return {
        logs: () => otlpExporter<ReadableLogRecord[]>(cfg, 'logs'),
        metrics: () => new HttpMetricExporter(httpOptions(cfg, 'metrics', cfg.endpoints.metrics)),
        traces: () => otlpExporter<ReadableSpan[]>(cfg, 'traces'),
      };
    case 'console':
      return {
        logs: () => new ConsoleLogRecordExporter(),
        metrics: () => new ConsoleMetricExporter(),
        traces: () => new ConsoleSpanExporter(),
      };
  }
}
