// The `process` receiver: sched_process_exec / exit keep the agent's process table current (every
// receiver's enrichment reads it); optional log records for exec and abnormal exits; process
// lifetime as a histogram and exec/exit counters per workload and executable.
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { SeverityNumber, type Attributes, type HrTime } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics, MetricData } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { RingReader, forEachRecord } from '../../../native/index.ts';
import { detachAndDrain, loadAndAttach, u32, type HookVariant, type LoadedProgram } from '../../bpf/loader.ts';
import { programStatsSource, ringStatsSource, kernelStatsSource } from '../../bpf/telemetry.ts';
import { KotelEventKind } from '../../bpf/kotel-event.layout.ts';
import {
  ATTR_KOTEL_REASON, ATTR_KOTEL_RECEIVER, ATTR_LINUX_PROCESS_EXIT_KIND, ATTR_LINUX_PROCESS_SIGNAL, ATTR_PROCESS_COMMAND_LINE,
  ATTR_PROCESS_EXECUTABLE_NAME, ATTR_PROCESS_EXECUTABLE_PATH, ATTR_PROCESS_EXIT_CODE, ATTR_PROCESS_EXIT_TIME,
  METRIC_LINUX_PROCESS_EXECS, METRIC_LINUX_PROCESS_EXITS, METRIC_LINUX_PROCESS_LIFETIME,
} from '../../semconv/attributes.ts';
import { cumulativeSum, histogram, resourceMetrics, type Point } from '../../pipeline/metric-data.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import { DEFAULT_REDACT, compileRedactPatterns } from '../../pipeline/processes.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { hookChecks } from '../checks.ts';
import { decodeExec, decodeExit, exitStatus, signalName, type ExitKind } from './decode.ts';
import { ProcessExecEvent, ProcessExitEvent } from './process.layout.ts';
import { processSchema, withDefaults, type ProcessSettings } from './settings.ts';
import { BoundedSeries, ValueHistogram } from './value-histogram.ts';

const OBJECT = 'process.bpf.o';
const VARIANTS: HookVariant[] = [
  { kind: 'tp_btf', programs: ['exec_btf', 'exit_btf'], tracepoint: 'sched/sched_process_exit' },
  { kind: 'raw_tp', programs: ['exec_raw', 'exit_raw'], tracepoint: 'sched/sched_process_exit' },
];
const SCOPE = receiverScope('process');
const SWEEP_MS = 1000;

interface Series { resource: Resource; exe: string; start: HrTime; lifetime: ValueHistogram; execs: number; exits: Record<ExitKind, number> }

class ProcessReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<ProcessSettings>;
  private readonly settings: ProcessSettings;
  private readonly series: BoundedSeries<Series>;
  private loaded: LoadedProgram | undefined;
  private ring: RingReader | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private decodeErrors = 0;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private finalMetrics: ResourceMetrics[] | undefined;
  scanned = 0;

  constructor(ctx: ReceiverContext<ProcessSettings>) {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
    this.series = new BoundedSeries(this.settings.max_series);
  }

  async start(): Promise<void> {
    const extra = compileRedactPatterns(this.settings.command_line.redact);
    if (extra.length) this.ctx.processes.setRedactPatterns([...DEFAULT_REDACT, ...extra]);
    this.loaded = loadAndAttach({
      receiver: this.id, object: OBJECT, variants: VARIANTS,
      force: this.settings.hook === 'auto' ? undefined : this.settings.hook,
      globals: { self_tgid: u32(process.pid) },
    });
    const { object, variant, skipped } = this.loaded;
    this.attachedTo = `${variant.kind}/sched_process_exec+exit`;
    for (const s of skipped) this.ctx.diag.info(`${this.id}: not using ${s}`);
    if (this.ctx.bpfRunTimeStats) object.enableRunTimeStats();
    // Attached first, then the scan: a process exec'ing in between is seen by both (harmless).
    if (this.settings.scan_proc) this.scanned = this.ctx.processes.scan();
    this.ring = new RingReader(object.map('events'), (batch, count) => this.onBatch(batch, count), { intervalMs: 10 });
    this.ring.unref();
    const t = this.ctx.selfTelemetry;
    t.addSource(ringStatsSource(this.id, this.ring, () => this.decodeErrors));
    t.addSource(kernelStatsSource(this.id, object.map('stats')));
    t.addSource(programStatsSource(this.id, object, variant.programs));
    t.addSource((observe) => {
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: this.id, [ATTR_KOTEL_REASON]: 'series_limit' }, this.series.refused);
    });
    this.sweepTimer = setInterval(() => this.ctx.processes.sweepExited(), SWEEP_MS).unref();
    this.state = 'running';
  }

  private seriesFor(tgid: number, comm: string, exe: string): Series | undefined {
    const resource = this.ctx.processes.workloadResource(tgid, comm);
    const key = `${JSON.stringify(resource.attributes)}\0${exe}`;
    return this.series.get(key, () => ({
      resource, exe, start: this.ctx.clock.now(), lifetime: new ValueHistogram(this.settings.lifetime_buckets), execs: 0,
      exits: { normal: 0, error: 0, signal: 0 },
    }));
  }

  private onBatch(batch: Buffer, count: number): void {
    if (this.state !== 'running') return;
    const observed = this.ctx.clock.now();
    forEachRecord(batch, count, (view, offset, length) => {
      const kind = view.getUint16(offset, true);
      if (kind === KotelEventKind.KOTEL_EVENT_PROCESS_EXEC && length >= ProcessExecEvent.size) {
        const ev = decodeExec(batch, offset, view);
        const info = this.ctx.processes.onExec(ev.tgid, { ppid: ev.ppid, uid: ev.uid, filename: ev.filename, comm: ev.comm, cgroupId: ev.cgroupId, startNs: ev.startNs > 0n ? ev.startNs : undefined });
        // /proc may already show a later exec of the same pid (sh -c '… && exec prog'): count this
        // exec under the file the kernel says it ran.
        const s = this.seriesFor(ev.tgid, ev.comm, ev.filename ? basename(ev.filename) : info.executableName);
        if (s) s.execs++;
        if (this.settings.logs.exec) {
          // /proc describes this exec only while it still shows the file the kernel ran (a shell that
          // exec'd its command at once already shows the command): else the kernel's filename, no command line.
          const procIsThisExec = !ev.filename || sameFile(info.executablePath, ev.filename);
          const path = procIsThisExec ? info.executablePath ?? ev.filename : ev.filename;
          this.log(ev.tgid, this.ctx.clock.toHrTime(ev.tsNs), observed, SeverityNumber.INFO, 'INFO', `exec ${path}`, {
            [ATTR_PROCESS_EXECUTABLE_NAME]: procIsThisExec ? info.executableName : basename(ev.filename),
            [ATTR_PROCESS_EXECUTABLE_PATH]: path,
            ...(procIsThisExec && info.commandLine ? { [ATTR_PROCESS_COMMAND_LINE]: info.commandLine } : {}),
          });
        }
      } else if (kind === KotelEventKind.KOTEL_EVENT_PROCESS_EXIT && length >= ProcessExitEvent.size) {
        const ev = decodeExit(batch, offset, view);
        const info = this.ctx.processes.onExit(ev.tgid, ev.comm, ev.startNs > 0n ? ev.startNs : undefined);
        const st = exitStatus(ev.exitCode);
        const lifetimeSec = ev.startNs > 0n && ev.tsNs > ev.startNs ? Number(ev.tsNs - ev.startNs) / 1e9 : 0;
        const s = this.seriesFor(ev.tgid, ev.comm, info.executableName);
        if (s) { s.lifetime.record(lifetimeSec); s.exits[st.kind]++; }
        if (st.kind !== 'normal' && this.settings.logs.abnormal_exit) {
          const time = this.ctx.clock.toHrTime(ev.tsNs);
          const attrs: Attributes = {
            [ATTR_PROCESS_EXECUTABLE_NAME]: info.executableName,
            [ATTR_PROCESS_EXIT_CODE]: st.kind === 'signal' ? 128 + st.signal : st.status,
            [ATTR_PROCESS_EXIT_TIME]: new Date(time[0] * 1000 + time[1] / 1e6).toISOString(),
            [ATTR_LINUX_PROCESS_EXIT_KIND]: st.kind,
          };
          if (st.kind === 'signal') attrs[ATTR_LINUX_PROCESS_SIGNAL] = signalName(st.signal);
          const what = st.kind === 'signal'
            ? `killed by ${signalName(st.signal)}${st.coreDumped ? ' (core dumped)' : ''}`
            : `exited with code ${st.status}`;
          this.log(ev.tgid, time, observed, st.kind === 'signal' ? SeverityNumber.ERROR : SeverityNumber.WARN, st.kind === 'signal' ? 'ERROR' : 'WARN',
            `process ${info.executableName} (pid ${ev.tgid}) ${what} after ${lifetimeSec.toFixed(3)} s`, attrs);
        }
      } else {
        this.decodeErrors++;
      }
    });
  }

  private log(tgid: number, time: HrTime, observed: HrTime, severityNumber: SeverityNumber, severityText: string, body: string, attributes: Attributes): void {
    const record: ReadableLogRecord = {
      hrTime: time, hrTimeObserved: observed, severityNumber, severityText, body,
      resource: this.ctx.processes.resource(tgid), instrumentationScope: SCOPE, attributes, droppedAttributesCount: 0,
    };
    this.ctx.emitLog?.(record);
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.finalMetrics) return this.finalMetrics;
    const byResource = new Map<Resource, Series[]>();
    for (const s of this.series.series.values()) {
      const list = byResource.get(s.resource);
      if (list) list.push(s); else byResource.set(s.resource, [s]);
    }
    const bounds = this.settings.lifetime_buckets;
    const out: ResourceMetrics[] = [];
    for (const [resource, list] of byResource) {
      const metrics: MetricData[] = [];
      const withExits = list.filter((s) => s.lifetime.count > 0);
      if (withExits.length) {
        metrics.push(histogram(METRIC_LINUX_PROCESS_LIFETIME, 's', 'Lifetime of processes that exited (exec or fork to exit of the last thread).', now, bounds,
          withExits.map((s) => ({ attributes: { [ATTR_PROCESS_EXECUTABLE_NAME]: s.exe }, startTime: s.start, count: s.lifetime.count,
            sum: s.lifetime.sum, min: s.lifetime.min, max: s.lifetime.max, counts: [...s.lifetime.counts] }))));
        const exits: Point[] = [];
        for (const s of withExits) for (const kind of ['normal', 'error', 'signal'] as const) {
          if (s.exits[kind]) exits.push({ attributes: { [ATTR_PROCESS_EXECUTABLE_NAME]: s.exe, [ATTR_LINUX_PROCESS_EXIT_KIND]: kind }, value: s.exits[kind], startTime: s.start });
        }
        metrics.push(cumulativeSum(METRIC_LINUX_PROCESS_EXITS, '{process}', 'Process exits by kind: normal (code 0), error (non-zero code), signal.', now, exits));
      }
      const execs = list.filter((s) => s.execs > 0);
      if (execs.length) {
        metrics.push(cumulativeSum(METRIC_LINUX_PROCESS_EXECS, '{exec}', 'Successful execs, by the new executable.', now,
          execs.map((s) => ({ attributes: { [ATTR_PROCESS_EXECUTABLE_NAME]: s.exe }, value: s.execs, startTime: s.start }))));
      }
      if (metrics.length) out.push(resourceMetrics(resource, SCOPE, metrics));
    }
    return out;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const loaded = this.loaded;
    if (loaded && this.ring && wasRunning) {
      await detachAndDrain(loaded, this.ring);
      this.finalMetrics = this.collectMetrics(this.ctx.clock.now());
    }
    this.state = 'stopped';
    this.ring?.close();
    loaded?.object.close();
    this.loaded = undefined;
  }
}

function checkProcess(settings: ProcessSettings): CheckItem[] {
  const s = withDefaults(settings);
  const items = hookChecks({
    variants: VARIANTS, force: s.hook, label: 'sched_process_exec/exit', object: OBJECT,
    fix: 'see the failed hooks above: each names its fix',
  });
  for (const p of s.command_line.redact) {
    try { new RegExp(p); } catch (e) { items.push({ what: 'command_line.redact', ok: false, detail: (e as Error).message, fix: 'write a valid JavaScript regular expression' }); }
  }
  return items;
}

export const processReceiver: ReceiverFactory<ProcessSettings> = {
  type: 'process',
  description: 'Process exec/exit: the process table every receiver enriches with, exec and abnormal-exit log records, lifetime histogram',
  signals: ['logs', 'metrics'],
  schema: processSchema,
  check: checkProcess,
  create: (ctx) => new ProcessReceiver(ctx),
};

/** /proc/<pid>/exe (resolved) names the file an exec ran (as the kernel got it, maybe through a symlink). */
function sameFile(procExe: string | undefined, kernelFilename: string): boolean {
  if (procExe === undefined) return false;
  if (basename(procExe) === basename(kernelFilename)) return true;
  try { return realpathSync(kernelFilename) === procExe; } catch { return false; }
}
