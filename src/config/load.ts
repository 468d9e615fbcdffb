// Loads otel-config.yaml: parse (keeping positions), substitute ${ENV} in values, validate everything,
// resolve OTEL_* fallbacks, and return a normalized AgentConfig — or throw one ConfigError listing every problem.

import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parse as parseYaml, parseDocument, visit, type Document, type Node } from 'yaml';
import { readOtlpEnv, readSdkEnv } from './env.ts';
import { DEFAULT_SAMPLER, type SamplerConfig, type SamplerName } from '../pipeline/sampler.ts';
import { BATCH_DEFAULTS } from '../pipeline/processors.ts';
import { ConfigError, suggestion, type ConfigIssue } from './errors.ts';
import { buildExporter } from './exporter.ts';
import { exporterSchemas, processorSchemas, topLevelSchema, validateAgainst, type PathSegment, type SchemaProblem } from './schema.ts';
import { isWholeReference, substituteEnv, SubstitutionError, type Env } from './substitute.ts';
import {
  SIGNALS,
  type AgentConfig,
  type BatchSettings,
  type ExporterConfig,
  type LogLevel,
  type PipelineConfig,
  type ProcessorConfig,
  type ReceiverConfig,
  type ReceiverTypes,
  type ResourceAttributeAction,
  type Signal,
} from './types.ts';

export { ConfigError, type ConfigIssue } from './errors.ts';

export interface LoadOptions {
  /** File to read; also the name used in messages. */
  path?: string;
  /** YAML text (instead of reading `path`). */
  text?: string;
  /** Name used in messages and AgentConfig.source; defaults to `path`, else '<inline>'. */
  source?: string;
  env?: Env;
  /** The receiver registry: settings schema and supported signals per receiver type. */
  receiverTypes: ReceiverTypes;
}

const DEFAULT_METRICS_INTERVAL_MS = 60_000; // OTEL_METRIC_EXPORT_INTERVAL's default
const COMPONENT_ID = /^([a-zA-Z][0-9a-zA-Z_]*)(?:\/(.+))?$/;
const PIPELINE_ID = /^([^/]*)(?:\/(.+))?$/;

type Kind = 'receivers' | 'processors' | 'exporters';
const SINGULAR: Record<Kind, string> = { receivers: 'receiver', processors: 'processor', exporters: 'exporter' };

export function loadConfig(options: LoadOptions): AgentConfig {
  const source = options.source ?? options.path ?? '<inline>';
  let text = options.text;
  if (text === undefined) {
    if (options.path === undefined) throw new TypeError('loadConfig needs a path or text; use defaultConfig() for the embedded default');
    try {
      text = readFileSync(options.path, 'utf8');
    } catch (err) {
      throw new ConfigError(source, [{ path: '', message: `cannot read the configuration file: ${(err as Error).message}` }]);
    }
  }
  return new Loader(source, text, options.env ?? process.env, options.receiverTypes).load();
}

class Loader {
  private readonly issues: ConfigIssue[] = [];
  private readonly warnings: string[] = [];
  private readonly badReferences = new Set<string>();
  private readonly lines = new LineCounter();
  private readonly doc: Document;
  private readonly source: string;
  private readonly env: Env;
  private readonly receiverTypes: ReceiverTypes;
  private readonly text: string;

  constructor(source: string, text: string, env: Env, receiverTypes: ReceiverTypes) {
    this.text = text;
    this.source = source;
    this.env = env;
    this.receiverTypes = receiverTypes;
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  load(): AgentConfig {
    if (this.doc.errors.length) {
      // Nothing sensible can be validated in a file that is not YAML. One syntax error tends to cascade into
      // many on the following lines, so keep the first per line, and at most a few.
      const seen = new Set<number | undefined>();
      for (const e of this.doc.errors) {
        const at = this.position(e.pos[0]);
        if (seen.has(at.line) || seen.size === 5) continue;
        seen.add(at.line);
        this.issues.push({ path: '', message: `YAML syntax: ${e.message}${this.syntaxHint(at.line)}`, ...at });
      }
      this.fail();
    }
    this.substitute();
    const data = asRecord(this.doc.toJS());
    const service = asRecord(data.service);
    const logs = asRecord(asRecord(service.telemetry).logs);
    if (typeof logs.level === 'string') logs.level = logs.level.toLowerCase(); // the Collector writes INFO too
    this.addProblems([], validateAgainst(topLevelSchema, data));

    const receivers = this.components('receivers', asRecord(data.receivers), (id, type, settings): ReceiverConfig => ({ id, type, settings }));
    const processors = this.components('processors', asRecord(data.processors), (id, type, settings, at) => this.processor(id, type, settings, at));
    const otlpIssues: ConfigIssue[] = [];
    const otlpEnv = readOtlpEnv(this.env, otlpIssues);
    const exporters = this.components('exporters', asRecord(data.exporters), (id, type, settings, at) =>
      buildExporter(id, type, settings, otlpEnv, (p, m) => this.issue([...at, ...p], m), this.warnings),
    );
    // OTLP variables matter only when an OTLP exporter will read them.
    if (Object.keys(asRecord(data.exporters)).some((id) => /^otlp(http)?(\/|$)/.test(id))) this.issues.push(...otlpIssues);

    const pipelines = this.pipelines(asRecord(service.pipelines), data);
    this.warnSmallQueues(pipelines, processors, exporters);
    const sdkEnv = readSdkEnv(this.env, this.issues);
    const telemetry = asRecord(service.telemetry);
    const interval = asRecord(telemetry.metrics).interval;
    const resource = Object.fromEntries(Object.entries(asRecord(telemetry.resource)).map(([k, v]) => [k, String(v)]));
    if (this.issues.length) this.fail();

    return {
      source: this.source,
      receivers: this.used(receivers, 'receivers', pipelines),
      processors: this.used(processors, 'processors', pipelines),
      exporters: this.used(exporters, 'exporters', pipelines),
      pipelines,
      telemetry: {
        metricsIntervalMs: typeof interval === 'number' ? interval : (sdkEnv.metricExportIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS),
        logLevel: (logs.level as LogLevel | undefined) ?? 'info',
        bpfRunTime: asRecord(telemetry.metrics).bpf_run_time === true,
      },
      // Precedence per the SDK spec: OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES; the file over both.
      selfResource: {
        'service.name': 'kotel',
        ...sdkEnv.resourceAttributes,
        ...(sdkEnv.serviceName ? { 'service.name': sdkEnv.serviceName } : {}),
        ...resource,
      },
      traces: { sampler: samplerConfig(asRecord(service.traces), sdkEnv.tracesSampler) },
      warnings: this.warnings,
    };
  }

  /** A sending queue smaller than the pipeline's batch never fills a batch: worth a warning, not a refusal. */
  private warnSmallQueues(pipelines: PipelineConfig[], processors: Record<string, ProcessorConfig>, exporters: Record<string, ExporterConfig>): void {
    for (const p of pipelines) {
      if (p.signal === 'metrics') continue;   // metrics are exported per collection, not queued
      const batchId = p.processors.find((id) => processors[id]?.type === 'batch');
      const batchSize = (batchId ? (processors[batchId].settings as { sendBatchSize?: number }).sendBatchSize : undefined) ?? BATCH_DEFAULTS.sendBatchSize;
      for (const id of p.exporters) {
        const queue = exporters[id]?.queueSize ?? 0;
        if (queue > 0 && queue < batchSize) {
          this.warnings.push(`exporter "${id}" in pipeline "${p.id}": sending_queue.queue_size ${queue} is smaller than the batch of ${batchSize} items${batchId ? ` (processor "${batchId}")` : ' (the default)'}: requests leave only at the batch timeout and items beyond the queue are dropped (counted); raise queue_size or lower send_batch_size`);
        }
      }
    }
  }

  /** `{ a: ${X} }` is a YAML error: `{` cannot start a plain value inside flow braces. Say so. */
  private syntaxHint(line: number | undefined): string {
    const text = line === undefined ? '' : (this.text.split('\n')[line - 1] ?? '');
    return /[{[][^'"]*\$\{/.test(text) ? ' (inside { } or [ ], quote values that use ${...}, or write the map in block style)' : '';
  }

  private fail(): never {
    // Report in file order; environment-variable problems (no line) last.
    const sorted = this.issues
      .map((issue, i) => ({ issue, i }))
      .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.i - b.i)
      .map((x) => x.issue);
    throw new ConfigError(this.source, sorted);
  }

  // ---- ${ENV} substitution -------------------------------------------------------------------------------------

  /** Substitute in every scalar value (never in keys), in place in the document so positions survive. */
  private substitute(): void {
    visit(this.doc, {
      Scalar: (key, node, ancestors) => {
        if (key === 'key' || typeof node.value !== 'string') return;
        const raw = node.value;
        try {
          const out = substituteEnv(raw, this.env);
          // Like the Collector: an unquoted value that is exactly one reference is typed as YAML would type it,
          // so `records_per_second: ${RATE:-10}` is the number 10. Quote it to keep a string.
          node.value = node.type === 'PLAIN' && isWholeReference(raw) ? typedScalar(out) : out;
        } catch (err) {
          if (!(err instanceof SubstitutionError)) throw err;
          const path = formatPath(nodePath(ancestors, node));
          this.badReferences.add(path);
          this.issues.push({ path, message: err.message, ...this.position(node.range?.[0]) });
        }
      },
    });
  }

  // ---- components ----------------------------------------------------------------------------------------------

  private components<T>(
    kind: Kind,
    section: Record<string, unknown>,
    build: (id: string, type: string, settings: Record<string, unknown>, at: PathSegment[]) => T,
  ): Record<string, T> {
    const known = this.knownTypes(kind);
    const out: Record<string, T> = {};
    for (const [id, raw] of Object.entries(section)) {
      const at: PathSegment[] = [kind, id];
      const m = COMPONENT_ID.exec(id);
      if (!m) {
        this.issue(at, `invalid ${SINGULAR[kind]} id "${id}"; an id is <type> or <type>/<name>, e.g. "${known[0] ?? 'otlp'}/2"`);
        continue;
      }
      const type = m[1];
      const schema = this.schemaFor(kind, type);
      if (!schema) {
        this.issue(at, `unknown ${SINGULAR[kind]} type "${type}"${suggestion(type, known, `${SINGULAR[kind]} types`)}`);
        continue;
      }
      const settings = raw ?? {}; // `batch:` with nothing after it means "all defaults"
      const problems = validateAgainst(schema, settings);
      if (problems.length) {
        this.addProblems(at, problems);
        continue;
      }
      out[id] = build(id, type, settings as Record<string, unknown>, at);
    }
    return out;
  }

  private knownTypes(kind: Kind): string[] {
    if (kind === 'receivers') return Object.keys(this.receiverTypes);
    return Object.keys(kind === 'exporters' ? exporterSchemas : processorSchemas);
  }

  private schemaFor(kind: Kind, type: string): object | undefined {
    const table: Record<string, object | undefined> =
      kind === 'receivers' ? Object.fromEntries(Object.entries(this.receiverTypes).map(([t, r]) => [t, r.schema])) : kind === 'exporters' ? exporterSchemas : processorSchemas;
    return Object.hasOwn(table, type) ? table[type] : undefined;
  }

  private processor(id: string, type: string, settings: Record<string, unknown>, at: PathSegment[]): ProcessorConfig {
    if (type === 'batch') {
      const batch: BatchSettings = {
        timeoutMs: settings.timeout as number,
        sendBatchSize: settings.send_batch_size as number,
        ...(settings.send_batch_max_size === undefined ? {} : { sendBatchMaxSize: settings.send_batch_max_size as number }),
      };
      if (batch.sendBatchMaxSize !== undefined && batch.sendBatchMaxSize !== 0 && batch.sendBatchMaxSize < batch.sendBatchSize) {
        this.issue([...at, 'send_batch_max_size'], `must be 0 (no limit) or >= send_batch_size (${batch.sendBatchSize}), got ${batch.sendBatchMaxSize}`);
      }
      return { id, type, settings: { ...batch } };
    }
    if (type === 'resource') {
      const attributes = settings.attributes as ResourceAttributeAction[];
      attributes.forEach((a, i) => {
        if (a.action !== 'delete' && a.value === undefined) {
          this.issue([...at, 'attributes', i], `action "${a.action}" needs a value (only "delete" works without one)`);
        }
      });
      return { id, type, settings: { attributes } };
    }
    return { id, type, settings };
  }

  // ---- pipelines -----------------------------------------------------------------------------------------------

  private pipelines(section: Record<string, unknown>, data: Record<string, unknown>): PipelineConfig[] {
    const at: PathSegment[] = ['service', 'pipelines'];
    if (Object.keys(section).length === 0 && isRecord(asRecord(data.service).pipelines)) {
      this.issue(at, 'no pipelines are defined; add one, e.g. logs: { receivers: [...], exporters: [...] }');
    }
    const out: PipelineConfig[] = [];
    for (const [id, raw] of Object.entries(section)) {
      const here = [...at, id];
      const m = PIPELINE_ID.exec(id);
      const signal = m?.[1] as Signal;
      if (!m || !SIGNALS.includes(signal) || m[2] === '') {
        this.issue(here, `invalid pipeline id "${id}"; a pipeline id is logs, metrics or traces, optionally followed by /<name>` +
          suggestion(m?.[1] ?? id, SIGNALS, 'signals'));
        continue;
      }
      const p = asRecord(raw);
      const pipeline: PipelineConfig = { id, signal, receivers: [], processors: [], exporters: [] };
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        const list = Array.isArray(p[kind]) ? (p[kind] as unknown[]) : [];
        if (list.length === 0 && kind !== 'processors' && (p[kind] === undefined || Array.isArray(p[kind]))) {
          const defined = Object.keys(asRecord(data[kind]));
          this.issue(Array.isArray(p[kind]) ? [...here, kind] : here, `pipeline has no ${kind}; list at least one` +
            (defined.length ? ` of: ${defined.join(', ')}` : ` (none are defined under ${kind})`));
        }
        list.forEach((ref, i) => {
          if (typeof ref !== 'string') return; // the schema already reported it
          if (this.checkReference(kind, ref, signal, [...here, kind, i], asRecord(data[kind]), pipeline[kind])) pipeline[kind].push(ref);
        });
      }
      out.push(pipeline);
    }
    return out;
  }

  private checkReference(kind: Kind, ref: string, signal: Signal, at: PathSegment[], defined: Record<string, unknown>, seen: string[]): boolean {
    if (!Object.hasOwn(defined, ref)) {
      this.issue(at, `${SINGULAR[kind]} "${ref}" is not defined under ${kind}${suggestion(ref, Object.keys(defined), kind)}`);
      return false;
    }
    if (seen.includes(ref)) {
      this.issue(at, `${SINGULAR[kind]} "${ref}" is listed twice in this pipeline`);
      return false;
    }
    if (kind === 'receivers') {
      const type = COMPONENT_ID.exec(ref)?.[1] ?? '';
      const info = Object.hasOwn(this.receiverTypes, type) ? this.receiverTypes[type] : undefined;
      if (info && !info.signals.includes(signal)) {
        const what = info.signals.length ? `it produces ${info.signals.join(', ')}` : 'it produces no signals';
        this.issue(at, `receiver "${ref}" does not support ${signal}; ${what}`);
        return false;
      }
    }
    return true;
  }

  /** Like the Collector, components no pipeline uses are not started (but were still validated). */
  private used<T>(components: Record<string, T>, kind: Kind, pipelines: PipelineConfig[]): Record<string, T> {
    const inUse = new Set(pipelines.flatMap((p) => p[kind]));
    const out: Record<string, T> = {};
    for (const [id, c] of Object.entries(components)) {
      if (inUse.has(id)) out[id] = c;
      else this.warnings.push(`${SINGULAR[kind]} "${id}" is defined but no pipeline uses it; it will not be started`);
    }
    return out;
  }

  // ---- positions -----------------------------------------------------------------------------------------------

  private addProblems(prefix: PathSegment[], problems: SchemaProblem[]): void {
    for (const p of problems) this.issue([...prefix, ...p.path], p.message);
  }

  private issue(path: PathSegment[], message: string): void {
    const where = formatPath(path);
    // A value whose ${...} was malformed is reported once, not again as an invalid value.
    if (this.badReferences.has(where)) return;
    this.issues.push({ path: where, message, ...this.locate(path) });
  }

  /** Position of the key at `path` (or of the list item), falling back to the nearest ancestor that exists. */
  private locate(path: PathSegment[]): { line?: number; column?: number } {
    let node: unknown = this.doc.contents;
    let offset = (node as Node | null)?.range?.[0];
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) break;
        offset = (pair.key as Node | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    return this.position(offset);
  }

  private position(offset: number | undefined): { line?: number; column?: number } {
    if (offset === undefined) return {};
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** The YAML path of a node from visit()'s ancestor list. */
function nodePath(ancestors: readonly unknown[], node: unknown): PathSegment[] {
  const out: PathSegment[] = [];
  ancestors.forEach((a, i) => {
    const child = ancestors[i + 1] ?? node;
    if (isPair(a)) out.push(keyText(a.key));
    else if (isSeq(a)) out.push(a.items.indexOf(child as never));
  });
  return out;
}

/** `receivers.syscalls.rate_limit`, `service.pipelines.logs.exporters[0]`, `headers["a.b"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[^.\s[\]"]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function typedScalar(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    const v: unknown = parseYaml(text);
    return typeof v === 'number' || typeof v === 'boolean' ? v : text;
  } catch {
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/** service.traces beats the environment; sampler_arg alone adjusts the environment's ratio sampler. */
function samplerConfig(file: Record<string, unknown>, env: SamplerConfig | undefined): SamplerConfig {
  const base = env ?? DEFAULT_SAMPLER;
  const name = (file.sampler as SamplerName | undefined) ?? base.name;
  const ratio = typeof file.sampler_arg === 'number' ? file.sampler_arg : file.sampler !== undefined && file.sampler !== base.name ? 1 : base.ratio;
  return { name, ratio };
}
