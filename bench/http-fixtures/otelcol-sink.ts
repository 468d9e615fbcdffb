// A real OpenTelemetry Collector as the span sink of the http benchmarks (SINK=otelcol): OTLP over
// gRPC and HTTP in, the debug exporter at basic verbosity out (no per-span work), so what the agent's
// exporter costs is measured against the peer it meets in a deployment (Go's gRPC and HTTP servers,
// not node's). Spans are counted by the collector itself (otelcol_receiver_accepted_spans, Prometheus).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, otelcolBinary } from '../../test/support/otelcol.ts';
import type { SinkProcess } from './sink-process.ts';

export async function startOtelcolSink(): Promise<SinkProcess> {
  const [binary, grpcPort, httpPort, metricsPort] = await Promise.all([otelcolBinary(), freePort(), freePort(), freePort()]);
  const dir = mkdtempSync(join(tmpdir(), 'kotel-bench-otelcol-'));
  writeFileSync(join(dir, 'config.yaml'), `receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}, max_recv_msg_size_mib: 256 }
      http: { endpoint: 127.0.0.1:${httpPort} }
exporters:
  debug: { verbosity: basic }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
  telemetry:
    metrics: { readers: [{ pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${metricsPort} } } } }] }
`);
  const child = spawn(binary, ['--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { log = (log + d).slice(-65536); });
  const accepted = async (): Promise<number | undefined> => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      let n = 0;
      for (const m of text.matchAll(/^otelcol_receiver_accepted_spans(?:_total)?\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
      return n;
    } catch {
      return undefined;   // not listening yet
    }
  };
  const until = Date.now() + 30_000;
  while ((await accepted()) === undefined) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`otelcol did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint: `http://127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    child,
    counts: async () => ({ total: (await accepted()) ?? 0, byKey: {} }),
    stop: () => { child.kill('SIGTERM'); },
  };
}
