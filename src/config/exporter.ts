// Turns an exporter's validated YAML settings into a resolved ExporterConfig, filling what the YAML leaves out
// from the OTEL_EXPORTER_OTLP_* variables (YAML first, then per-signal variable, then generic variable, then default).

import type { OtlpEnv } from './env.ts';
import type { PathSegment } from './schema.ts';
import { SIGNALS, type ExporterConfig, type Signal } from './types.ts';

export type Report = (path: PathSegment[], message: string) => void;

export const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
export const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Items (spans, log records) an exporter queues: four default batches, ~0.6 s of 50k spans/s behind the one in flight. */
const DEFAULT_QUEUE_SIZE = 32_768;
const DEFAULT_MAX_ELAPSED_MS = 300_000; // the Collector's default

interface OtlpSettings {
  endpoint?: string;
  logs_endpoint?: string;
  metrics_endpoint?: string;
  traces_endpoint?: string;
  headers?: Record<string, string | number | boolean> | null;
  tls?: { insecure?: boolean; ca_file?: string; cert_file?: string; key_file?: string } | null;
  compression?: 'gzip' | 'none';
  timeout?: number; // already milliseconds (the schema's duration keyword)
  sending_queue?: { enabled?: boolean; queue_size?: number } | null;
  retry_on_failure?: { enabled?: boolean; max_elapsed_time?: number } | null;
  verbosity?: 'basic' | 'normal' | 'detailed';
}

const bySignal = <T>(f: (s: Signal) => T) => Object.fromEntries(SIGNALS.map((s) => [s, f(s)])) as Record<Signal, T>;

export function consoleExporter(id: string, verbosity?: ExporterConfig['verbosity']): ExporterConfig {
  return {
    id,
    type: 'console',
    protocol: 'console',
    endpoints: bySignal(() => ''),
    headers: {},
    signalHeaders: bySignal(() => ({})),
    insecure: false,
    compression: 'none',
    timeoutMs: 0,
    queueSize: DEFAULT_QUEUE_SIZE,
    retry: { enabled: false, maxElapsedMs: 0 },
    ...(verbosity ? { verbosity } : {}),
  };
}

/** `fileType` is the type as written (otlp, otlphttp, console or debug). */
export function buildExporter(
  id: string,
  fileType: string,
  settings: OtlpSettings,
  otlpEnv: OtlpEnv,
  report: Report,
  warnings: string[],
): ExporterConfig {
  if (fileType === 'console' || fileType === 'debug') return consoleExporter(id, settings.verbosity);
  const grpc = fileType === 'otlp';
  const tls = settings.tls ?? {};

  const envProtocols = [otlpEnv.protocol, ...SIGNALS.map((s) => otlpEnv.signals[s].protocol)].filter((p) => p !== undefined);
  const wrong = envProtocols.find((p) => p !== (grpc ? 'grpc' : 'http/protobuf'));
  if (wrong) {
    warnings.push(
      `exporter "${id}" is OTLP/${grpc ? 'gRPC' : 'HTTP'} because its type is ${fileType}; the OTEL_EXPORTER_OTLP_*PROTOCOL ` +
        `value "${wrong}" does not apply to it (use the ${grpc ? 'otlphttp' : 'otlp'} exporter for that protocol)`,
    );
  }

  const endpoints = grpc
    ? grpcEndpoints(settings, tls.insecure ?? otlpEnv.insecure, otlpEnv, report)
    : httpEndpoints(settings, otlpEnv, report);
  const allPlain = SIGNALS.every((s) => endpoints[s].startsWith('http://'));
  const insecure = tls.insecure ?? allPlain;
  if (grpc && settings.endpoint && tls.insecure !== undefined && hasScheme(settings.endpoint) && tls.insecure !== allPlain) {
    report(['tls', 'insecure'], `is ${tls.insecure} but endpoint "${settings.endpoint}" uses ${allPlain ? 'http:// (no TLS)' : 'https:// (TLS)'}; ` +
      `remove the scheme from the endpoint or make the two agree`);
  }

  const yamlHeaders = Object.fromEntries(Object.entries(settings.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const queue = settings.sending_queue ?? {};
  const retry = settings.retry_on_failure ?? {};
  return {
    id,
    type: grpc ? 'otlp' : 'otlphttp',
    protocol: grpc ? 'grpc' : 'http/protobuf',
    endpoints,
    headers: { ...otlpEnv.headers, ...yamlHeaders },
    signalHeaders: bySignal((s) => ({ ...otlpEnv.headers, ...otlpEnv.signals[s].headers, ...yamlHeaders })),
    insecure,
    ...optional('caFile', tls.ca_file ?? otlpEnv.certificate),
    ...optional('certFile', tls.cert_file ?? otlpEnv.clientCertificate),
    ...optional('keyFile', tls.key_file ?? otlpEnv.clientKey),
    compression: settings.compression ?? otlpEnv.compression ?? 'gzip',
    timeoutMs: settings.timeout ?? otlpEnv.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    queueSize: queue.enabled === false ? 0 : (queue.queue_size ?? DEFAULT_QUEUE_SIZE),
    retry: { enabled: retry.enabled ?? true, maxElapsedMs: retry.max_elapsed_time ?? DEFAULT_MAX_ELAPSED_MS },
  };
}

const optional = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, string>));

const hasScheme = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

function isHttpUrl(s: string): boolean {
  return /^https?:\/\/[^/]/i.test(s) && URL.canParse(s);
}

/** gRPC has no per-signal paths: one endpoint serves all signals. The Collector also allows a bare host:port. */
function grpcEndpoints(settings: OtlpSettings, insecure: boolean | undefined, env: OtlpEnv, report: Report): Record<Signal, string> {
  const yaml = settings.endpoint;
  if (yaml !== undefined) {
    let url = yaml;
    if (!hasScheme(yaml) && /^(\[[0-9a-f:.]+\]|[^\s/:[\]]+):\d+$/i.test(yaml)) url = `${insecure ? 'http' : 'https'}://${yaml}`;
    if (!isHttpUrl(url)) {
      report(['endpoint'], `"${yaml}" must be host:port or a URL like http://collector:4317 (scheme http or https)`);
      url = DEFAULT_GRPC_ENDPOINT;
    }
    return bySignal(() => url);
  }
  return bySignal((s) => env.signals[s].endpoint ?? env.endpoint ?? DEFAULT_GRPC_ENDPOINT);
}

/** OTLP/HTTP: per-signal endpoints are used as-is; a base endpoint gets /v1/<signal> appended (spec and Collector agree). */
function httpEndpoints(settings: OtlpSettings, env: OtlpEnv, report: Report): Record<Signal, string> {
  const check = (key: keyof OtlpSettings, value: string | undefined): string | undefined => {
    if (value === undefined || isHttpUrl(value)) return value;
    report([key], `"${value}" must be a URL like http://collector:4318 (scheme http or https)`);
    return undefined;
  };
  const base = check('endpoint', settings.endpoint);
  const own = bySignal((s) => check(`${s}_endpoint`, settings[`${s}_endpoint`]));
  return bySignal(
    (s) =>
      own[s] ??
      (base !== undefined ? withSignalPath(base, s) : undefined) ??
      env.signals[s].endpoint ??
      withSignalPath(env.endpoint ?? DEFAULT_HTTP_ENDPOINT, s),
  );
}

export function withSignalPath(base: string, signal: Signal): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}
