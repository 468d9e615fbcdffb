// The `iouring` receiver: io_uring request latency (submit → complete, correlated by the request
// pointer in the kernel) per process and opcode as exact in-kernel histograms; failed
// completions by errno, failed requests, CQ overflows and io-wq punts as counters, and the
// failures and overflows also as warning log records (one per process, opcode and errno per sweep).
//
// What one histogram observation is: one request, from its submission to the CQE that ends it in
// the kernel (the CQE posted with the request). A multishot request (poll, accept, recv, read)
// is one observation lasting until its final CQE; its intermediate CQEs (IORING_CQE_F_MORE, which
// the kernel posts without the request) are counted in linux.io_uring.extra_completions, as are
// zero-copy send notifications. Requests refused at submission are failed_requests, not timed;
// requests whose CQE overflowed the CQ ring are cq_overflows, not timed (no tracepoint names them).
import { SeverityNumber, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { readCString } from '../../bpf/records.ts';
import { loadAndAttach, readCounter, u32, type HookVariant, type LoadedProgram } from '../../bpf/loader.ts';
import { kernelStatsSource, programStatsSource } from '../../bpf/telemetry.ts';
import {
  ATTR_ERROR_TYPE, ATTR_KOTEL_REASON, ATTR_KOTEL_RECEIVER, ATTR_LINUX_IO_URING_COMPLETION_KIND, ATTR_LINUX_IO_URING_OCCURRENCES,
  ATTR_LINUX_IO_URING_OPCODE, METRIC_LINUX_IO_URING_ASYNC_WORK, METRIC_LINUX_IO_URING_CQ_OVERFLOWS, METRIC_LINUX_IO_URING_ERRORS,
  METRIC_LINUX_IO_URING_EXTRA_COMPLETIONS,
  METRIC_LINUX_IO_URING_FAILED_REQUESTS, METRIC_LINUX_IO_URING_REQUEST_DURATION,
} from '../../semconv/attributes.ts';
import { errnoName, errnoText } from '../../semconv/errno.ts';
import { ioUringOpcodeName } from '../../semconv/io-uring.ts';
import { histogram, monotonicSum, resourceMetrics, type HistogramPoint, type Point } from '../../pipeline/metric-data.ts';
import { boundsNs, HistogramTemporality, layoutFromSettings, perCpuMinMax, readKernelHistogram, type HistogramLayout, type KernelHistogram } from '../../pipeline/kernel-histogram.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { hookChecks } from '../checks.ts';
import { inflightSlots } from '../limits.ts';
import { IouringErrKey, IouringErrKind, IouringKey, IouringProc, IouringStat, IouringValue } from './iouring.layout.ts';
import { iouringSchema, withDefaults, type IouringSettings } from './settings.ts';

const OBJECT = 'iouring.bpf.o';
const EVENTS = ['io_uring_submit_req', 'io_uring_complete', 'io_uring_queue_async_work', 'io_uring_req_failed', 'io_uring_cqe_overflow'];
export const IOURING_VARIANTS: HookVariant[] = [
  { kind: 'tp_btf', programs: EVENTS.map((e) => `${e}_btf`), tracepoint: 'io_uring/io_uring_complete' },
  { kind: 'tracepoint', programs: EVENTS.map((e) => `${e}_tp`), tracepoint: 'io_uring/io_uring_complete' },
];
const SCOPE = receiverScope('iouring');
const NS = 1e9;
const SWEEP_MS = 1000;

export interface UringSeries { tgid: number; opcode: number; asyncWork: number; comm: string; hist: KernelHistogram }

export function decodeUringSeries(keys: Buffer, values: Buffer, count: number, layout: HistogramLayout): UringSeries[] {
  const out: UringSeries[] = [];
  for (let i = 0; i < count; i++) {
    const k = i * IouringKey.size, v = i * IouringValue.size;
    out.push({
      tgid: keys.readUInt32LE(k + IouringKey.fields.tgid.offset),
      opcode: keys.readUInt32LE(k + IouringKey.fields.opcode.offset),
      asyncWork: Number(values.readBigUInt64LE(v + IouringValue.fields.async_work.offset)),
      comm: readCString(values, v + IouringValue.fields.comm.offset, IouringValue.fields.comm.size),
      hist: readKernelHistogram(values, v, IouringValue.fields, layout),
    });
  }
  return out;
}

interface ErrEntry { tgid: number; opcode: number; err: number; kind: number; count: number; key: Buffer }
export interface ProcEntry { tgid: number; cqOverflows: number; multishot: number; notifications: number; other: number; key: Buffer }

/** The `procs` map: per-process CQ overflows and CQEs that did not end a request. */
export function decodeProcs(keys: Buffer, values: Buffer, count: number): ProcEntry[] {
  const F = IouringProc.fields;
  const u64 = (i: number, f: { offset: number }) => Number(values.readBigUInt64LE(i * IouringProc.size + f.offset));
  return Array.from({ length: count }, (_, i) => ({
    tgid: keys.readUInt32LE(i * 4), cqOverflows: u64(i, F.cq_overflows), multishot: u64(i, F.multishot_cqes),
    notifications: u64(i, F.notif_cqes), other: u64(i, F.other_aux_cqes), key: keys.subarray(i * 4, i * 4 + 4),
  }));
}

/** Failed completions that are the application's own doing, not worth a warning: cancellations
 * it asked for, and timeouts expiring (IORING_OP_TIMEOUT completes with ETIME by design). */
const ORDINARY_ERRNOS = new Set(['ECANCELED', 'ETIME']);

class IouringReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<IouringSettings>;
  private readonly settings: IouringSettings;
  private readonly layout: HistogramLayout;
  private readonly boundsSeconds: number[];
  private readonly temporality: HistogramTemporality;
  private readonly logged = new Map<string, number>();   // counts already reported as log records
  private loaded: LoadedProgram | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private startTime: HrTime = [0, 0];
  private finalMetrics: ResourceMetrics[] | undefined;
  private state: 'idle' | 'running' | 'stopped' = 'idle';

  constructor(ctx: ReceiverContext<IouringSettings>) {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
    this.layout = layoutFromSettings(this.settings.histogram);
    this.boundsSeconds = boundsNs(this.layout).map((b) => b / NS);
    this.temporality = new HistogramTemporality(this.settings.temporality === 'delta');
  }

  async start(): Promise<void> {
    this.startTime = this.ctx.clock.now();
    const limits = this.settings.limits, inflight = inflightSlots(limits.in_flight);
    this.loaded = loadAndAttach({
      receiver: this.id,
      object: OBJECT,
      variants: IOURING_VARIANTS,
      force: this.settings.hook === 'auto' ? undefined : this.settings.hook,
      globals: {
        sub_bits: u32(this.layout.subBits), min_exp: u32(this.layout.minExp), nbounds: u32(this.layout.nbounds),
        self_tgid: u32(process.pid), inflight_mask: u32(inflight.mask),
      },
      maxEntries: { inflight: inflight.slots, latency: limits.series, errors: limits.errors, procs: limits.processes },
    });
    const { object, variant, skipped } = this.loaded;
    this.attachedTo = `${variant.kind}/io_uring_complete`;
    for (const x of skipped) this.ctx.diag.info(`${this.id}: not using ${x}`);
    if (this.ctx.bpfRunTimeStats) object.enableRunTimeStats();
    const t = this.ctx.selfTelemetry;
    t.addSource(kernelStatsSource(this.id, object.map('stats')));
    t.addSource(programStatsSource(this.id, object, variant.programs));
    let unmatched = 0, abandoned = 0;
    t.addSource((observe) => {
      try {
        const stats = object.map('uring_stats');
        unmatched = readCounter(stats, IouringStat.IOURING_STAT_UNMATCHED);
        // Never completed (as far as the kernel let us see): evicted from the 2-way LRU in-flight
        // table by newer requests, or found still in flight when their request struct was reused.
        // (A reuse explained by a CQ overflow of that process is not counted: see on_reused.)
        abandoned = readCounter(stats, IouringStat.IOURING_STAT_EVICTED) + readCounter(stats, IouringStat.IOURING_STAT_REPLACED);
      } catch { /* closed */ }
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: this.id, [ATTR_KOTEL_REASON]: 'unmatched_completion' }, unmatched);
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: this.id, [ATTR_KOTEL_REASON]: 'abandoned_request' }, abandoned);
    });
    if (this.ctx.emitLog) this.sweepTimer = setInterval(() => this.sweepLogs(), SWEEP_MS).unref();
    this.state = 'running';
  }

  private readSeries(): UringSeries[] {
    const latency = this.loaded!.object.map('latency');
    const { count, keys, values } = latency.dump();
    const series = decodeUringSeries(keys, values, count, this.layout);
    series.forEach((s, i) => perCpuMinMax((k) => latency.lookupPerCpu(k), keys.subarray(i * IouringKey.size, (i + 1) * IouringKey.size), s.hist, IouringValue.fields));
    return series;
  }

  private readErrors(): ErrEntry[] {
    const { count, keys, values } = this.loaded!.object.map('errors').dump();
    const F = IouringErrKey.fields;
    const out: ErrEntry[] = [];
    for (let i = 0; i < count; i++) {
      const k = i * IouringErrKey.size;
      out.push({
        tgid: keys.readUInt32LE(k + F.tgid.offset), opcode: keys.readUInt32LE(k + F.opcode.offset),
        err: keys.readInt32LE(k + F.err.offset), kind: keys.readUInt32LE(k + F.kind.offset),
        count: Number(values.readBigUInt64LE(i * 8)), key: keys.subarray(k, k + IouringErrKey.size),
      });
    }
    return out;
  }

  private readProcs(): ProcEntry[] {
    const { count, keys, values } = this.loaded!.object.map('procs').dump();
    return decodeProcs(keys, values, count);
  }

  /** Warning log records for new failed requests, failed completions (except cancellations and
   * timeouts expiring) and CQ overflows: counts since the last sweep. */
  private sweepLogs(): void {
    if (!this.loaded || !this.ctx.emitLog) return;
    const now = this.ctx.clock.now();
    for (const e of this.readErrors()) {
      const refused = e.kind === IouringErrKind.IOURING_ERR_REQ_FAILED;
      const name = errnoName(-e.err);
      if (!refused && ORDINARY_ERRNOS.has(name)) continue;
      const key = `${refused ? 'f' : 'c'}|${e.tgid}|${e.opcode}|${e.err}`;
      const n = e.count - (this.logged.get(key) ?? 0);
      if (n <= 0) continue;
      this.logged.set(key, e.count);
      const op = ioUringOpcodeName(e.opcode);
      const what = refused ? 'request refused at submission' : 'request failed';
      this.emit(now, e.tgid, `io_uring ${op} ${what}: ${name} (${errnoText(-e.err)})${n > 1 ? ` (${n} times)` : ''}`,
        { [ATTR_LINUX_IO_URING_OPCODE]: op, [ATTR_ERROR_TYPE]: name, [ATTR_LINUX_IO_URING_OCCURRENCES]: n });
    }
    for (const o of this.readProcs()) {
      const key = `o|${o.tgid}`;
      const n = o.cqOverflows - (this.logged.get(key) ?? 0);
      if (n <= 0) continue;
      this.logged.set(key, o.cqOverflows);
      this.emit(now, o.tgid, `io_uring completion queue overflowed: ${n} completion${n > 1 ? 's' : ''} held back (the application reaps completions too slowly)`,
        { [ATTR_ERROR_TYPE]: 'cq_overflow', [ATTR_LINUX_IO_URING_OCCURRENCES]: n });
    }
  }

  private emit(time: HrTime, tgid: number, body: string, attributes: Record<string, string | number>): void {
    const record: ReadableLogRecord = {
      hrTime: time, hrTimeObserved: time, severityNumber: SeverityNumber.WARN, severityText: 'WARN', body,
      resource: this.ctx.processes.resource(tgid), instrumentationScope: SCOPE, attributes, droppedAttributesCount: 0,
    };
    this.ctx.emitLog!(record);
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.finalMetrics) return this.finalMetrics;
    const object = this.loaded?.object;
    if (!object || this.state !== 'running') return [];
    const series = this.readSeries();
    const out = this.build(series, this.readErrors(), this.readProcs(), now as [number, number]);
    this.retire(series);
    return out;
  }

  private build(series: UringSeries[], errors: ErrEntry[], procEntries: ProcEntry[], now: [number, number]): ResourceMetrics[] {
    const start = this.startTime as [number, number];
    const temporality = this.settings.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    const t = this.temporality;
    interface Proc { hist: HistogramPoint[]; async: Point[]; errs: Point[]; failed: Point[]; overflow: Point[]; extra: Point[] }
    const procs = new Map<number, Proc>();
    const comms = new Map(series.map((s) => [s.tgid, s.comm]));
    const proc = (tgid: number) => {
      let p = procs.get(tgid);
      if (!p) procs.set(tgid, (p = { hist: [], async: [], errs: [], failed: [], overflow: [], extra: [] }));
      return p;
    };
    const point = (key: string, value: number, attributes: Record<string, string>): Point => {
      const n = t.nextCount(key, value, now, start);
      return { attributes, value: n.value, startTime: n.start };
    };
    for (const s of series) {
      const op = ioUringOpcodeName(s.opcode);
      const attributes = { [ATTR_LINUX_IO_URING_OPCODE]: op };
      const p = proc(s.tgid);
      if (s.asyncWork) p.async.push(point(`a|${s.tgid}|${s.opcode}`, s.asyncWork, attributes));
      if (!s.hist.count) continue;
      const next = t.next(`${s.tgid}|${s.opcode}`, s.hist, now, start);
      if (!next) continue;
      p.hist.push({
        attributes, startTime: next.start, count: next.h.count, sum: next.h.sum / NS, counts: next.h.counts,
        min: next.h.min !== undefined ? next.h.min / NS : undefined, max: next.h.max !== undefined ? next.h.max / NS : undefined,
      });
    }
    for (const e of errors) {
      const attributes = { [ATTR_LINUX_IO_URING_OPCODE]: ioUringOpcodeName(e.opcode), [ATTR_ERROR_TYPE]: errnoName(-e.err) };
      const target = e.kind === IouringErrKind.IOURING_ERR_REQ_FAILED ? proc(e.tgid).failed : proc(e.tgid).errs;
      target.push(point(`e|${e.kind}|${e.tgid}|${e.opcode}|${e.err}`, e.count, attributes));
    }
    for (const o of procEntries) {
      const p = proc(o.tgid);
      if (o.cqOverflows) p.overflow.push(point(`o|${o.tgid}`, o.cqOverflows, {}));
      for (const [kind, n] of [['multishot', o.multishot], ['notification', o.notifications], ['other', o.other]] as const) {
        if (n) p.extra.push(point(`x|${o.tgid}|${kind}`, n, { [ATTR_LINUX_IO_URING_COMPLETION_KIND]: kind }));
      }
    }
    const out: ResourceMetrics[] = [];
    for (const [tgid, p] of procs) {
      const metrics: MetricData[] = [];
      if (p.hist.length) metrics.push(histogram(METRIC_LINUX_IO_URING_REQUEST_DURATION, 's',
        'io_uring request latency from submission to the completion that ends the request (multishot: its final CQE), bucketed in the kernel.', now, this.boundsSeconds, p.hist, temporality));
      const sum = (name: string, unit: string, desc: string, points: Point[]) => { if (points.length) metrics.push(monotonicSum(name, unit, desc, now, points, temporality)); };
      sum(METRIC_LINUX_IO_URING_ERRORS, '{completion}', 'io_uring completions with a negative result, per opcode and errno.', p.errs);
      sum(METRIC_LINUX_IO_URING_FAILED_REQUESTS, '{request}', 'io_uring requests the kernel failed (io_uring_req_failed), per opcode and errno.', p.failed);
      sum(METRIC_LINUX_IO_URING_CQ_OVERFLOWS, '{completion}', 'Completions that overflowed the completion queue.', p.overflow);
      sum(METRIC_LINUX_IO_URING_ASYNC_WORK, '{request}', 'io_uring requests punted to io-wq worker threads, per opcode.', p.async);
      sum(METRIC_LINUX_IO_URING_EXTRA_COMPLETIONS, '{completion}',
        'CQEs that did not end a request: multishot intermediates (IORING_CQE_F_MORE), zero-copy send notifications, others posted without a request.', p.extra);
      if (metrics.length) out.push(resourceMetrics(this.ctx.processes.resource(tgid, comms.get(tgid)), SCOPE, metrics));
    }
    return out;
  }

  /** Series of processes that have exited were exported one last time: remove them. */
  private retire(series: UringSeries[]): void {
    const object = this.loaded?.object;
    if (!object) return;
    const dead = new Set<number>();
    for (const tgid of new Set(series.map((s) => s.tgid))) if (!this.ctx.processes.isAlive(tgid)) dead.add(tgid);
    if (!dead.size) return;
    this.sweepLogs();
    const latency = object.map('latency');
    for (const s of series) if (dead.has(s.tgid)) {
      const k = Buffer.alloc(IouringKey.size);
      k.writeUInt32LE(s.tgid, IouringKey.fields.tgid.offset);
      k.writeUInt32LE(s.opcode, IouringKey.fields.opcode.offset);
      latency.delete(k);
    }
    for (const e of this.readErrors()) if (dead.has(e.tgid)) object.map('errors').delete(Buffer.from(e.key));
    for (const o of this.readProcs()) if (dead.has(o.tgid)) object.map('procs').delete(Buffer.from(o.key));
    for (const tgid of dead) {
      this.temporality.forget(`${tgid}|`);
      this.ctx.processes.forget(tgid);
    }
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const loaded = this.loaded;
    if (loaded && this.state === 'running') {
      for (const p of loaded.variant.programs) loaded.object.detach(p);
      this.sweepLogs();
      const now = this.ctx.clock.now();
      this.finalMetrics = this.build(this.readSeries(), this.readErrors(), this.readProcs(), now as [number, number]);
    }
    loaded?.object.close();
    this.loaded = undefined;
    this.state = 'stopped';
  }
}

function checkIouring(settings: IouringSettings): CheckItem[] {
  const s = withDefaults(settings);
  const items: CheckItem[] = [];
  try {
    layoutFromSettings(s.histogram);
    items.push({ what: 'histogram', ok: true, detail: 'fits the kernel histogram' });
  } catch (e) {
    items.push({ what: 'histogram', ok: false, detail: (e as Error).message, fix: 'adjust receivers.iouring.histogram' });
  }
  items.push(...hookChecks({
    variants: IOURING_VARIANTS, force: s.hook, label: 'io_uring_submit_req/complete', object: OBJECT,
    detail: 'no io_uring tracepoints', fix: 'run on Linux >= 5.5 with io_uring enabled (kernel.io_uring_disabled=0), as root',
  }));
  return items;
}

export const iouringReceiver: ReceiverFactory<IouringSettings> = {
  type: 'iouring',
  description: 'io_uring latency histograms per process and opcode (in-kernel, exact), failures, CQ overflows, io-wq punts',
  signals: ['logs', 'metrics'],
  schema: iouringSchema,
  check: checkIouring,
  create: (ctx) => new IouringReceiver(ctx),
};
