// The standard OTEL_* environment variables (OpenTelemetry spec: "OTLP Exporter Configuration" and the
// SDK environment variables). Parsed once into plain values; load.ts decides precedence against the YAML.

import { samplerFromEnv, type SamplerConfig } from '../pipeline/sampler.ts';
import type { ConfigIssue } from './errors.ts';
import type { Env } from './substitute.ts';
import { SIGNALS, type Signal } from './types.ts';

export type OtlpProtocol = 'grpc' | 'http/protobuf';
export type SignalExporterChoice = 'otlp' | 'console';

export interface OtlpSignalEnv {
  /** OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT: used as-is, even for HTTP. */
  endpoint?: string;
  protocol?: OtlpProtocol;
  headers: Record<string, string>;
}

export interface OtlpEnv {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: for HTTP, /v1/<signal> is appended. */
  endpoint?: string;
  protocol?: OtlpProtocol;
  headers: Record<string, string>;
  signals: Record<Signal, OtlpSignalEnv>;
  timeoutMs?: number;
  compression?: 'gzip' | 'none';
  insecure?: boolean;
  certificate?: string;
  clientKey?: string;
  clientCertificate?: string;
}

export interface SdkEnv {
  serviceName?: string;
  resourceAttributes: Record<string, string>;
  metricExportIntervalMs?: number;
  /** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG. */
  tracesSampler?: SamplerConfig;
}

/** Per the spec, an empty variable is treated as unset. */
function get(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

const envIssue = (envVar: string, message: string): ConfigIssue => ({ path: '', envVar, message });

/** `k=v,k2=v2` with URL-encoded (percent-encoded) keys and values, as in OTEL_EXPORTER_OTLP_HEADERS. */
export function parseKeyValueList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`"${entry.trim()}" is not a key=value pair; expected k=v,k2=v2`);
    const key = decode(entry.slice(0, eq).trim());
    const value = decode(entry.slice(eq + 1).trim());
    if (key === '') throw new Error(`empty key in "${entry.trim()}"`);
    out[key] = value;
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Error(`"${s}" is not valid percent-encoding (write %25 for a literal %)`);
  }
}

function readProtocol(env: Env, name: string, issues: ConfigIssue[]): OtlpProtocol | undefined {
  const v = get(env, name);
  if (v === undefined) return undefined;
  if (v === 'grpc' || v === 'http/protobuf') return v;
  if (v === 'http/json') {
    issues.push(envIssue(name, `"http/json" is not supported by kotel; use "grpc" or "http/protobuf"`));
  } else {
    issues.push(envIssue(name, `"${v}" is not a valid protocol; use "grpc" or "http/protobuf"`));
  }
  return undefined;
}

function readHeaders(env: Env, name: string, issues: ConfigIssue[]): Record<string, string> {
  const v = get(env, name);
  if (v === undefined) return {};
  try {
    // Header names are case-insensitive (and gRPC metadata keys lower-case): normalize once.
    return Object.fromEntries(Object.entries(parseKeyValueList(v)).map(([k, val]) => [k.toLowerCase(), val]));
  } catch (err) {
    issues.push(envIssue(name, (err as Error).message));
    return {};
  }
}

function readMillis(env: Env, name: string, issues: ConfigIssue[], min: number): number | undefined {
  const v = get(env, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) {
    issues.push(envIssue(name, `"${v}" must be a whole number of milliseconds >= ${min}`));
    return undefined;
  }
  return Number(v);
}

function readEndpoint(env: Env, name: string, issues: ConfigIssue[]): string | undefined {
  const v = get(env, name);
  if (v === undefined) return undefined;
  if (!/^https?:\/\/[^/]/i.test(v) || !URL.canParse(v)) {
    issues.push(envIssue(name, `"${v}" must be a URL like http://collector:4317 (scheme http or https)`));
    return undefined;
  }
  return v;
}

export function readOtlpEnv(env: Env, issues: ConfigIssue[]): OtlpEnv {
  const signals = {} as Record<Signal, OtlpSignalEnv>;
  for (const s of SIGNALS) {
    const S = s.toUpperCase();
    signals[s] = {
      endpoint: readEndpoint(env, `OTEL_EXPORTER_OTLP_${S}_ENDPOINT`, issues),
      protocol: readProtocol(env, `OTEL_EXPORTER_OTLP_${S}_PROTOCOL`, issues),
      headers: readHeaders(env, `OTEL_EXPORTER_OTLP_${S}_HEADERS`, issues),
    };
  }
  const out: OtlpEnv = {
    endpoint: readEndpoint(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', issues),
    protocol: readProtocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', issues),
    headers: readHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS', issues),
    signals,
    timeoutMs: readMillis(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', issues, 1),
    certificate: get(env, 'OTEL_EXPORTER_OTLP_CERTIFICATE'),
    clientKey: get(env, 'OTEL_EXPORTER_OTLP_CLIENT_KEY'),
    clientCertificate: get(env, 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'),
  };
  const compression = get(env, 'OTEL_EXPORTER_OTLP_COMPRESSION');
  if (compression === 'gzip' || compression === 'none') out.compression = compression;
  else if (compression !== undefined) {
    issues.push(envIssue('OTEL_EXPORTER_OTLP_COMPRESSION', `"${compression}" must be "gzip" or "none"`));
  }
  const insecure = get(env, 'OTEL_EXPORTER_OTLP_INSECURE')?.toLowerCase();
  if (insecure === 'true' || insecure === 'false') out.insecure = insecure === 'true';
  else if (insecure !== undefined) {
    issues.push(envIssue('OTEL_EXPORTER_OTLP_INSECURE', `"${insecure}" must be "true" or "false"`));
  }
  return out;
}

/** Protocol for one signal: the per-signal variable beats the generic one; gRPC by default. */
export function signalProtocol(otlp: OtlpEnv, signal: Signal): OtlpProtocol {
  return otlp.signals[signal].protocol ?? otlp.protocol ?? 'grpc';
}

export function readSdkEnv(env: Env, issues: ConfigIssue[]): SdkEnv {
  let resourceAttributes: Record<string, string> = {};
  const attrs = get(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (attrs !== undefined) {
    try {
      resourceAttributes = parseKeyValueList(attrs);
    } catch (err) {
      issues.push(envIssue('OTEL_RESOURCE_ATTRIBUTES', (err as Error).message));
    }
  }
  const sampler = samplerFromEnv(get(env, 'OTEL_TRACES_SAMPLER'), get(env, 'OTEL_TRACES_SAMPLER_ARG'));
  if (sampler && 'envVar' in sampler) issues.push(envIssue(sampler.envVar, sampler.message));
  return {
    serviceName: get(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes,
    metricExportIntervalMs: readMillis(env, 'OTEL_METRIC_EXPORT_INTERVAL', issues, 1),
    tracesSampler: sampler && !('envVar' in sampler) ? sampler : undefined,
  };
}

/** OTEL_{LOGS,METRICS,TRACES}_EXPORTER ("none" → []); only the embedded default consults these. */
export function readSignalExporters(env: Env, issues: ConfigIssue[]): Record<Signal, SignalExporterChoice[] | undefined> {
  const exporters = {} as Record<Signal, SignalExporterChoice[] | undefined>;
  for (const s of SIGNALS) {
    const name = `OTEL_${s.toUpperCase()}_EXPORTER`;
    const v = get(env, name);
    if (v === undefined) continue;
    const chosen = new Set<SignalExporterChoice>();
    for (const item of v.toLowerCase().split(',').map((x) => x.trim()).filter(Boolean)) {
      if (item === 'otlp' || item === 'console') chosen.add(item);
      else if (item === 'logging') chosen.add('console'); // the spec's deprecated name for console
      else if (item !== 'none') issues.push(envIssue(name, `"${item}" is not supported; use "otlp", "console" or "none"`));
    }
    exporters[s] = [...chosen];
  }
  return exporters;
}
