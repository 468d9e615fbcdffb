// A resolved OTLP exporter config (what loadConfig makes of an `otlp:` / `otlphttp:` entry) for tests and
// benchmarks that drive kotel's exporters directly: no compression, retries on, no TLS.
import type { ExporterConfig } from '../../src/config/index.ts';

export function exporterConfig(protocol: 'grpc' | 'http/protobuf', endpoints: ExporterConfig['endpoints'], queueSize = 10_000): ExporterConfig {
  return {
    id: protocol, type: protocol === 'grpc' ? 'otlp' : 'otlphttp', protocol, endpoints, headers: {},
    signalHeaders: { logs: {}, metrics: {}, traces: {} }, insecure: true, compression: 'none', timeoutMs: 30_000,
    queueSize, retry: { enabled: true, maxElapsedMs: 60_000 },
  };
}

/** One gRPC endpoint for every signal. */
export const grpcEndpoints = (url: string): ExporterConfig['endpoints'] => ({ logs: url, metrics: url, traces: url });
