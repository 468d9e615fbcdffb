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

// The official trace exporters (OTLPTraceExporter of exporter-trace-otlp-grpc / -proto) are these
// delegates with the generic serializer; kotel's serializer writes the same messages several times
// faster from its kernel spans. Everything else (transport, retries, TLS, compression, headers) is theirs.
export class GrpcTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(options: ReturnType<typeof grpcOptions>) {
    super(createOtlpGrpcExportDelegate(convertLegacyOtlpGrpcOptions(options, 'TRACES'), kotelTraceSerializer, 'otlp_grpc_span_exporter',
      TraceExporterMetricsHelper, undefined, 'TraceExportService', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'));
  }
}

export class HttpTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(options: ReturnType<typeof httpOptions>) {
    super(createOtlpHttpExportDelegate(convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      kotelTraceSerializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
  }
}

// The official log exporters (exporter-logs-otlp-grpc / -proto) are these delegates with the official
// serializer; kotel's wrapper only notes the bytes per record, which cap the records of a request.
const measuredLogSerializer: ISerializer<ReadableLogRecord[], IExportLogsServiceResponse> = {
  serializeRequest(records) {
    const bytes = ProtobufLogsSerializer.serializeRequest(records);
    if (bytes) logRequests.observe(records.length, bytes.length);
    return bytes;
  },
  deserializeResponse: (data) => ProtobufLogsSerializer.deserializeResponse(data),
};

export class GrpcLogExporter extends OTLPExporterBase<ReadableLogRecord[]> implements LogRecordExporter {
  constructor(options: ReturnType<typeof grpcOptions>) {
    super(createOtlpGrpcExportDelegate(convertLegacyOtlpGrpcOptions(options, 'LOGS'), measuredLogSerializer, 'otlp_grpc_log_exporter',
      LogsExporterMetricsHelper, undefined, 'LogsExportService', '/opentelemetry.proto.collector.logs.v1.LogsService/Export'));
  }
}

export class HttpLogExporter extends OTLPExporterBase<ReadableLogRecord[]> implements LogRecordExporter {
  constructor(options: ReturnType<typeof httpOptions>) {
    super(createOtlpHttpExportDelegate(convertLegacyHttpOptions(options, 'LOGS', 'v1/logs', { 'Content-Type': 'application/x-protobuf' }),
      measuredLogSerializer, 'otlp_http_log_exporter', LogsExporterMetricsHelper, undefined));
  }
}

function httpOptions(cfg: ExporterConfig, signal: Signal, url: string) {
  return { url, headers: { ...(cfg.signalHeaders?.[signal] ?? cfg.headers) }, compression: cfg.compression as never, timeoutMillis: cfg.timeoutMs, keepAlive: true };
}

export function createExporters(cfg: ExporterConfig): SignalExporters {
  switch (cfg.protocol) {
    case 'grpc':
      return {
        logs: () => new GrpcLogExporter(grpcOptions(cfg, 'logs', cfg.endpoints.logs)),
        metrics: () => new GrpcMetricExporter(grpcOptions(cfg, 'metrics', cfg.endpoints.metrics)),
        traces: () => new GrpcTraceExporter(grpcOptions(cfg, 'traces', cfg.endpoints.traces)),
      };
    case 'http/protobuf':
      return {
        logs: () => new HttpLogExporter(httpOptions(cfg, 'logs', cfg.endpoints.logs)),
        metrics: () => new HttpMetricExporter(httpOptions(cfg, 'metrics', cfg.endpoints.metrics)),
        traces: () => new HttpTraceExporter(httpOptions(cfg, 'traces', cfg.endpoints.traces)),
      };
    case 'console':
      return {
        logs: () => new ConsoleLogRecordExporter(),
        metrics: () => new ConsoleMetricExporter(),
        traces: () => new ConsoleSpanExporter(),
      };
  }
}
