// The normalized configuration handed to the rest of kotel. Everything here is resolved: durations are
// milliseconds, endpoints are full URLs per signal, environment variables and defaults are applied.

import type { SamplerConfig } from '../pipeline/sampler.ts';

export type Signal = 'logs' | 'metrics' | 'traces';
export const SIGNALS: readonly Signal[] = ['logs', 'metrics', 'traces'];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the receiver registry tells the loader about each receiver type. */
export interface ReceiverTypeInfo {
  /** Signals the receiver can produce; a pipeline of another signal may not use it. */
  signals: readonly Signal[];
  /** JSON schema of the receiver's settings (ajv; `default`s are applied; `duration: true` converts to ms). */
  schema: object;
}
export type ReceiverTypes = Record<string, ReceiverTypeInfo>;

export interface ReceiverConfig {
  id: string;
  type: string;
  /** Settings with the schema's defaults applied. */
  settings: Record<string, unknown>;
}

export interface ExporterConfig {
  id: string;
  type: 'otlp' | 'otlphttp' | 'console';
  protocol: 'grpc' | 'http/protobuf' | 'console';
  /** Fully resolved URL per signal ('' for console). */
  endpoints: Record<Signal, string>;
  /** Headers common to all signals (generic OTEL_EXPORTER_OTLP_HEADERS merged under the YAML's headers). */
  headers: Record<string, string>;
  /** The headers to send per signal: generic env, then per-signal env, then the YAML's headers. */
  signalHeaders: Record<Signal, Record<string, string>>;
  insecure: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  compression: 'gzip' | 'none';
  timeoutMs: number;
  /** Items queued for export; 0 when the sending queue is disabled (only the batch being sent is held). */
  queueSize: number;
  retry: { enabled: boolean; maxElapsedMs: number };
  /** Console/debug exporter only: how much to print. */
  verbosity?: 'basic' | 'normal' | 'detailed';
}

export interface BatchSettings {
  timeoutMs: number;
  sendBatchSize: number;
  /** Items one request carries at most; absent: sendBatchSize; 0: no limit. */
  sendBatchMaxSize?: number;
}

export interface ResourceAttributeAction {
  key: string;
  action: 'insert' | 'update' | 'upsert' | 'delete';
  value?: string | number | boolean;
}

export interface ProcessorConfig {
  id: string;
  type: string;
  /** batch: BatchSettings; resource: { attributes: ResourceAttributeAction[] }; filter: passed through as written. */
  settings: Record<string, unknown>;
}

export interface PipelineConfig {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface AgentConfig {
  /** File path, or '<embedded default>'. */
  source: string;
  /** Only components used by at least one pipeline (like the Collector, unused ones are not started). */
  receivers: Record<string, ReceiverConfig>;
  processors: Record<string, ProcessorConfig>;
  exporters: Record<string, ExporterConfig>;
  pipelines: PipelineConfig[];
  telemetry: {
    metricsIntervalMs: number;
    logLevel: LogLevel;
    /** Turn on the kernel's BPF run-time statistics (kotel.bpf.program.*); they cost every hook run. */
    bpfRunTime: boolean;
  };
  /** Resource of kotel's own telemetry: service.name (default "kotel") and friends. */
  selfResource: Record<string, string>;
  /** Head sampling of spans: service.traces in the file, else OTEL_TRACES_SAMPLER(_ARG), else always_on. */
  traces: { sampler: SamplerConfig };
  /** Things that are legal but probably not what was meant (unused components, ignored variables). */
  warnings: string[];
}
