// The configuration kotel runs when no file is given. It is built as YAML text and then loaded like any file,
// so the embedded default goes through the same validation, and the repo's otel-config.yaml can be compared to it.

import { Document, isMap, isScalar, isSeq, type Pair } from 'yaml';
import { readOtlpEnv, readSignalExporters, signalProtocol } from './env.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { loadConfig } from './load.ts';
import type { Env } from './substitute.ts';
import { SIGNALS, type AgentConfig, type ReceiverTypes, type Signal } from './types.ts';

export const DEFAULT_SOURCE = '<embedded default>';

export interface DefaultConfigOptions {
  env?: Env;
  /** Receiver types to enable (e.g. those this kernel can run), in order. */
  availableReceivers: readonly string[];
  /** The receiver registry: needed to know which signals each receiver produces. */
  receiverTypes: ReceiverTypes;
}

export function defaultConfig(options: DefaultConfigOptions): AgentConfig {
  const env = options.env ?? process.env;
  return loadConfig({ text: renderDefaultConfigYaml({ ...options, env }), source: DEFAULT_SOURCE, env, receiverTypes: options.receiverTypes });
}

/** The embedded default as commented YAML text (what `otel-config.yaml` in the repo holds, for receivers [syscalls]). */
export function renderDefaultConfigYaml(options: DefaultConfigOptions): string {
  const doc = new Document(defaultConfigObject(options));
  comment(doc);
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

/** The embedded default as a plain object in the file's shape. */
export function defaultConfigObject(options: DefaultConfigOptions): Record<string, unknown> {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const otlp = readOtlpEnv(env, issues);
  const chosen = readSignalExporters(env, issues);

  const unknown = options.availableReceivers.filter((r) => !Object.hasOwn(options.receiverTypes, r));
  if (unknown.length) throw new TypeError(`availableReceivers names types missing from receiverTypes: ${unknown.join(', ')}`);
  const available = [...new Set(options.availableReceivers)];

  // Per signal: what OTEL_<SIGNAL>_EXPORTER asks for, else OTLP when an endpoint for it is set, else the console.
  const exportersFor = (s: Signal): string[] =>
    (chosen[s] ?? (otlp.endpoint || otlp.signals[s].endpoint ? ['otlp'] : ['console'])).map((c) =>
      c === 'console' ? 'console' : signalProtocol(otlp, s) === 'grpc' ? 'otlp' : 'otlphttp',
    );

  const pipelines: Record<string, unknown> = {};
  const usedReceivers = new Set<string>();
  const usedExporters = new Set<string>();
  for (const s of SIGNALS) {
    const receivers = available.filter((r) => options.receiverTypes[r].signals.includes(s));
    const exporters = exportersFor(s);
    if (!receivers.length || !exporters.length) continue;
    receivers.forEach((r) => usedReceivers.add(r));
    exporters.forEach((e) => usedExporters.add(e));
    pipelines[s] = { receivers, processors: ['batch'], exporters };
  }
  if (Object.keys(pipelines).length === 0) {
    issues.push({
      path: '',
      message: available.length
        ? `no pipeline can be built: receivers ${available.join(', ')} produce no signal that has an exporter (check OTEL_*_EXPORTER)`
        : 'no receiver is available, so there is nothing to run',
    });
  }
  if (issues.length) throw new ConfigError(DEFAULT_SOURCE, issues);

  return {
    receivers: Object.fromEntries(available.filter((r) => usedReceivers.has(r)).map((r) => [r, {}])),
    processors: { batch: {} },
    exporters: Object.fromEntries(['otlp', 'otlphttp', 'console'].filter((e) => usedExporters.has(e)).map((e) => [e, {}])),
    service: { pipelines },
  };
}

const HEADER = `
 kotel configuration, in the shape of the OpenTelemetry Collector's.

 This is the configuration kotel embeds and runs when no --config is given (renderDefaultConfigYaml
 generates it; a test keeps the two equal). Embedded, it enables every receiver this kernel can run, and
 exports over OTLP instead of to the console when OTEL_EXPORTER_OTLP_ENDPOINT (or a per-signal
 OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT) is set; OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf picks OTLP/HTTP.

 Values may use \${VAR}, \${env:VAR} and \${VAR:-default}; write $$ for a literal $.
 Durations are written 500ms, 10s, 1m, or as a number of milliseconds.`.slice(1);

const SECTION_COMMENTS: Record<string, string> = {
  receivers: `
 Receivers turn kernel events captured with eBPF into logs, metrics and traces.
 Ids are <type> or <type>/<name>. Settings left out take their defaults.`,
  processors: `
 Processors run in the order a pipeline lists them.
   batch:    { timeout: 200ms, send_batch_size: 8192 }   # the defaults; send_batch_max_size: per request (0: no limit)
   resource: { attributes: [{ key: deployment.environment.name, value: prod, action: upsert }] }`,
  exporters: `
 Exporters: otlp (OTLP/gRPC), otlphttp (OTLP/HTTP protobuf) or console (alias debug). For example
   otlp: { endpoint: collector:4317, headers: { x-api-key: "\${API_KEY}" }, tls: { insecure: true } }
   otlphttp: { endpoint: https://collector:4318 }   # /v1/logs, /v1/metrics, /v1/traces are appended
 What an OTLP exporter leaves out comes from the standard OTEL_EXPORTER_OTLP_* variables.`,
  service: `
 Pipelines connect receivers, through processors, to exporters: one per signal (logs, metrics,
 traces), or logs/<name> and so on for more. A receiver only fits pipelines of signals it produces.
 service.telemetry sets kotel's own telemetry: metrics: { interval: 10s } (default
 OTEL_METRIC_EXPORT_INTERVAL, else 60s), logs: { level: info }, and resource (default service.name: kotel,
 OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES).`,
};

function comment(doc: Document): void {
  doc.commentBefore = HEADER;
  if (!isMap(doc.contents)) return;
  (doc.contents.items as Pair[]).forEach((pair, i) => {
    if (!isScalar(pair.key)) return;
    const text = SECTION_COMMENTS[String(pair.key.value)];
    if (text) pair.key.commentBefore = text.slice(1);
    pair.key.spaceBefore = i > 0; // the header's blank line already separates the first section
  });
  // Short id lists read best on one line: receivers: [syscalls].
  const pipelines = doc.getIn(['service', 'pipelines']);
  if (!isMap(pipelines)) return;
  for (const p of pipelines.items) {
    if (!isMap(p.value)) continue;
    for (const list of p.value.items) if (isSeq(list.value)) list.value.flow = true;
  }
}
