// Wires a validated config into running receivers, export queues and the metrics loop.
import { hostname } from 'node:os';
import type { HrTime } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { AgentConfig, ExporterConfig, PipelineConfig } from './config/index.ts';
import { MonotonicClock } from './pipeline/clock.ts';
import { Diagnostics } from './pipeline/diagnostics.ts';
import { ExportQueue, type BatchExporter } from './pipeline/export-queue.ts';
import { createExporters } from './pipeline/exporters.ts';
import { ProcessCache } from './pipeline/processes.ts';
import { queueOptions, resourceTransform } from './pipeline/processors.ts';
import { KOTEL_VERSION } from './pipeline/scope.ts';
import { KernelSpan } from './pipeline/kernel-span.ts';
import { logRequests, spanRequests } from './pipeline/request-size.ts';
import { SpanSampler } from './pipeline/sampler.ts';
import { SelfTelemetry, processCacheSource } from './pipeline/self-telemetry.ts';
import type { Receiver } from './receivers/receiver.ts';
import { receiverFactory } from './receivers/registry.ts';
import { releaseSharedMaps } from './bpf/shared-maps.ts';

// Console exporters have no sending queue or timeout of their own.
const DEFAULT_TIMEOUT_MS = 10_000;

interface MetricsRoute { pipeline: string; exporterId: string; exporter: PushMetricExporter; receivers: string[]; transform?: ReturnType<typeof resourceTransform>; inFlight: boolean; sent: number; failures: number; skipped: number }

/** A span under the resource a pipeline's processors made (a KernelSpan keeps its class and getters). */
function withResource(span: ReadableSpan, resource: Resource): ReadableSpan {
  return span instanceof KernelSpan ? span.withResource(resource) : { ...span, resource };
}

export interface AgentOptions { diag?: Diagnostics }

export class Agent {
  readonly receivers = new Map<string, Receiver>();
  readonly failedReceivers = new Map<string, string>();
  private readonly config: AgentConfig;
  private readonly diag: Diagnostics;
  private readonly clock = new MonotonicClock();
  private readonly sampler: SpanSampler;
  private readonly processes = new ProcessCache();
  private readonly selfTelemetry: SelfTelemetry;
  private readonly logQueues: Array<{ pipeline: string; exporterId: string; queue: ExportQueue<ReadableLogRecord> }> = [];
  private readonly spanQueues: Array<{ pipeline: string; exporterId: string; queue: ExportQueue<ReadableSpan> }> = [];
  private readonly metricRoutes: MetricsRoute[] = [];
  private metricsTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(config: AgentConfig, opts: AgentOptions = {}) {
    this.config = config;
    this.diag = opts.diag ?? new Diagnostics(config.telemetry.logLevel);
    this.sampler = new SpanSampler(config.traces.sampler);
    const selfResource = resourceFromAttributes({
      'service.name': 'kotel',
      'service.version': KOTEL_VERSION,
      'host.name': hostname(),
      'process.pid': process.pid,
      ...config.selfResource,
    });
    this.selfTelemetry = new SelfTelemetry(selfResource, this.clock.now());
    this.selfTelemetry.addSource(processCacheSource(this.processes));
  }

  private pipelinesOf(signal: PipelineConfig['signal']): PipelineConfig[] {
    return this.config.pipelines.filter((p) => p.signal === signal);
  }

  /** Starts every receiver a pipeline uses; one failing receiver never stops the others. */
  async start(): Promise<void> {
    this.buildLogQueues();
    this.buildSpanQueues();
    this.buildMetricRoutes();
    const used = new Set(this.config.pipelines.flatMap((p) => p.receivers));
    for (const id of used) {
      const rc = this.config.receivers[id];
      const factory = receiverFactory(rc.type);
      if (!factory) { this.failedReceivers.set(id, `unknown receiver type ${rc.type}`); continue; }
      const emitLog = this.logEmitterFor(id);
      const emitSpan = this.spanEmitterFor(id);
      let receiver: Receiver | undefined;
      try {
        // Settings a receiver rejects (a constructor throw) fail that receiver only, with its message.
        receiver = factory.create({
          id, settings: rc.settings as never, emitLog, emitSpan, sampler: this.sampler, processes: this.processes, clock: this.clock,
          selfTelemetry: this.selfTelemetry, diag: this.diag, metricsIntervalMs: this.config.telemetry.metricsIntervalMs,
          bpfRunTimeStats: this.config.telemetry.bpfRunTime,
        });
        await receiver.start();
        this.receivers.set(id, receiver);
      } catch (err) {
        await receiver?.shutdown().catch(() => undefined);
        const msg = (err as Error).message;
        this.failedReceivers.set(id, msg);
        this.diag.error(`${id}: ${msg}`);
      }
    }
    this.metricsTimer = setInterval(() => void this.exportMetrics(), this.config.telemetry.metricsIntervalMs);
  }

  readyLine(): string {
    const rx = [...this.receivers].map(([id, r]) => `${id}(${r.attachedTo})`).join(', ') || 'none';
    const ex = Object.values(this.config.exporters)
      .map((e) => `${e.id}(${e.protocol}${e.protocol === 'console' ? '' : ` ${e.endpoints.logs}`})`).join(', ');
    const failed = this.failedReceivers.size ? `; not running: ${[...this.failedReceivers.keys()].join(', ')}` : '';
    return `kotel ${KOTEL_VERSION} ready: receivers ${rx}; exporters ${ex}; config ${this.config.source}${failed}`;
  }

  private buildLogQueues(): void {
    this.logQueues.push(...this.buildQueues('logs', (cfg) => createExporters(cfg).logs(), (cfg) => (cfg.protocol === 'console' ? undefined : logRequests.fitItems)));
  }

  private buildSpanQueues(): void {
    this.spanQueues.push(...this.buildQueues('traces', (cfg) => createExporters(cfg).traces(), (cfg) => (cfg.protocol === 'console' ? undefined : spanRequests.fitItems)));
  }

  /** One bounded export queue per (pipeline, exporter) of `signal`, each with its own drop counters. */
  private buildQueues<T>(signal: 'logs' | 'traces', exporterOf: (cfg: ExporterConfig) => BatchExporter<T>,
    fitItemsOf: (cfg: ExporterConfig) => (() => number) | undefined = () => undefined): Array<{ pipeline: string; exporterId: string; queue: ExportQueue<T> }> {
    const out: Array<{ pipeline: string; exporterId: string; queue: ExportQueue<T> }> = [];
    for (const p of this.pipelinesOf(signal)) {
      for (const exporterId of p.exporters) {
        const cfg = this.config.exporters[exporterId];
        const queue = new ExportQueue<T>(exporterOf(cfg), queueOptions(
          p.processors.map((id) => this.config.processors[id]), cfg.queueSize, cfg.timeoutMs || DEFAULT_TIMEOUT_MS, cfg.retry, fitItemsOf(cfg)));
        out.push({ pipeline: p.id, exporterId, queue });
        this.selfTelemetry.addSource((observe) => {
          const attrs = { 'kotel.exporter': exporterId, 'kotel.signal': signal };
          observe('kotel.exporter.sent', attrs, queue.stats.exported);
          observe('kotel.exporter.dropped', { ...attrs, 'kotel.reason': 'queue_full' }, queue.stats.droppedQueueFull);
          observe('kotel.exporter.dropped', { ...attrs, 'kotel.reason': 'export_failed' }, queue.stats.droppedExportFailed);
          observe('kotel.exporter.failures', attrs, queue.stats.exportFailures);
          observe('kotel.exporter.retries', attrs, queue.stats.retries);
          observe('kotel.exporter.splits', attrs, queue.stats.splits);
          observe('kotel.exporter.queue.size', attrs, queue.stats.queued);
        });
      }
    }
    return out;
  }

  private spanEmitterFor(receiverId: string): ((s: ReadableSpan) => void) | undefined {
    const targets = this.pipelinesOf('traces').filter((p) => p.receivers.includes(receiverId)).flatMap((p) => {
      const transform = resourceTransform(p.processors.map((id) => this.config.processors[id]));
      return this.spanQueues.filter((q) => q.pipeline === p.id).map((q) => ({ queue: q.queue, transform }));
    });
    if (!targets.length) return undefined;
    return (span) => {
      for (const t of targets) t.queue.push(t.transform ? withResource(span, t.transform(span.resource)) : span);
    };
  }

  private logEmitterFor(receiverId: string): ((r: ReadableLogRecord) => boolean) | undefined {
    const targets = this.pipelinesOf('logs').filter((p) => p.receivers.includes(receiverId)).flatMap((p) => {
      const transform = resourceTransform(p.processors.map((id) => this.config.processors[id]));
      return this.logQueues.filter((q) => q.pipeline === p.id).map((q) => ({ queue: q.queue, transform }));
    });
    if (!targets.length) return undefined;
    return (record) => {
      let accepted = false;
      for (const t of targets) accepted = t.queue.push(t.transform ? { ...record, resource: t.transform(record.resource) } : record) || accepted;
      return accepted;
    };
  }

  private buildMetricRoutes(): void {
    for (const p of this.pipelinesOf('metrics')) {
      const transform = resourceTransform(p.processors.map((id) => this.config.processors[id]));
      for (const exporterId of p.exporters) {
        const route: MetricsRoute = {
          pipeline: p.id, exporterId, exporter: createExporters(this.config.exporters[exporterId]).metrics(),
          receivers: p.receivers, transform, inFlight: false, sent: 0, failures: 0, skipped: 0,
        };
        this.metricRoutes.push(route);
        this.selfTelemetry.addSource((observe) => {
          const attrs = { 'kotel.exporter': exporterId, 'kotel.signal': 'metrics' };
          observe('kotel.exporter.sent', attrs, route.sent);
          observe('kotel.exporter.failures', attrs, route.failures);
          observe('kotel.exporter.dropped', { ...attrs, 'kotel.reason': 'export_in_progress' }, route.skipped);
        });
      }
    }
  }

  /** One collection per interval; cumulative data makes a skipped export harmless, but it is counted. */
  private async exportMetrics(): Promise<void> {
    const now = this.clock.now();
    const self = this.selfTelemetry.collect(now);
    await Promise.all(this.metricRoutes.map(async (route, i) => {
      if (route.inFlight) { route.skipped++; return; }
      const batches: ResourceMetrics[] = [];
      for (const id of route.receivers) batches.push(...(this.receivers.get(id)?.collectMetrics?.(now) ?? []));
      // kotel's own metrics go once, through the first metrics route.
      if (i === 0) batches.push(self);
      route.inFlight = true;
      try {
        for (const rm of batches) await this.exportOne(route, route.transform ? { ...rm, resource: route.transform(rm.resource) } : rm, now);
      } finally {
        route.inFlight = false;
      }
    }));
  }

  private exportOne(route: MetricsRoute, rm: ResourceMetrics, _now: HrTime): Promise<void> {
    if (!rm.scopeMetrics.some((s) => s.metrics.length)) return Promise.resolve();
    return new Promise((resolve) => {
      route.exporter.export(rm, (result) => {
        if (result.code === ExportResultCode.SUCCESS) route.sent++;
        else {
          route.failures++;
          this.diag.warn(`metrics export to ${route.exporterId} failed: ${result.error?.message ?? 'unknown error'}`);
        }
        resolve();
      });
    });
  }

  /** Stops receivers (draining what the kernel already produced), then flushes every exporter. */
  shutdown(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.metricsTimer) clearInterval(this.metricsTimer);
      for (const r of this.receivers.values()) await r.shutdown().catch((e) => this.diag.error(`${r.id} shutdown: ${(e as Error).message}`));
      releaseSharedMaps();
      await Promise.all([...this.logQueues, ...this.spanQueues].map((q) => q.queue.flush(timeoutMs)));
      while (this.metricRoutes.some((r) => r.inFlight)) await new Promise((r) => setTimeout(r, 10));
      await this.exportMetrics();
      await Promise.all([
        ...this.logQueues.map((q) => q.queue.shutdown(timeoutMs)),
        ...this.spanQueues.map((q) => q.queue.shutdown(timeoutMs)),
        ...this.metricRoutes.map((r) => r.exporter.shutdown().catch(() => undefined)),
      ]);
    })();
    return this.stopping;
  }
}
