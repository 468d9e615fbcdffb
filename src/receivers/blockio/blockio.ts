// The `blockio` receiver: block request latency (issue → complete) aggregated in the kernel per
// (device, operation, cgroup) into exact histograms, exported with the kernel's own bucket
// thresholds; bytes, operations, service time and errors per device and operation.
import { hostname } from 'node:os';
import type { HrTime } from '@opentelemetry/api';
import { AggregationTemporality, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { loadAndAttach, readCounter, u8, u32, type HookVariant, type LoadedProgram } from '../../bpf/loader.ts';
import { kernelStatsSource, programStatsSource } from '../../bpf/telemetry.ts';
import {
  ATTR_CONTAINER_ID, ATTR_DISK_IO_DIRECTION, ATTR_ERROR_TYPE, ATTR_HOST_NAME, ATTR_KOTEL_REASON, ATTR_KOTEL_RECEIVER,
  ATTR_LINUX_BLOCK_OPERATION, ATTR_LINUX_CGROUP_PATH, ATTR_SYSTEM_DEVICE, METRIC_LINUX_BLOCK_ERRORS,
  METRIC_LINUX_BLOCK_OPERATIONS, METRIC_LINUX_BLOCK_OPERATION_TIME, METRIC_LINUX_BLOCK_QUEUE_TIME,
  METRIC_LINUX_BLOCK_REQUEST_DURATION, METRIC_SYSTEM_DISK_IO, METRIC_SYSTEM_DISK_OPERATIONS, METRIC_SYSTEM_DISK_OPERATION_TIME,
} from '../../semconv/attributes.ts';
import { histogram, monotonicSum, resourceMetrics, type HistogramPoint, type Point } from '../../pipeline/metric-data.ts';
import { boundsNs, HistogramTemporality, layoutFromSettings, perCpuMinMax, readKernelHistogram, type HistogramLayout } from '../../pipeline/kernel-histogram.ts';
import { containerIdFromCgroupPath } from '../../pipeline/container-id.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { hookChecks } from '../checks.ts';
import { inflightSlots } from '../limits.ts';
import { BlockioErrKey, BlockioKey, BlockioStat, BlockioValue } from './blockio.layout.ts';
import { CgroupPaths } from '../../pipeline/cgroups.ts';
import { blkcgRoot, DeviceNames } from './devices.ts';
import { blockErrorType, blockOpName, ioDirection } from './mapping.ts';
import { blockioSchema, withDefaults, type BlockioSettings } from './settings.ts';
import { ValueType } from '@opentelemetry/api';

const OBJECT = 'blockio.bpf.o';
const TP = (kind: HookVariant['kind'], queue: boolean): HookVariant => {
  const suffix = kind === 'tp_btf' ? 'btf' : kind === 'raw_tp' ? 'raw' : 'tp';
  const programs = [`block_rq_issue_${suffix}`, `block_rq_complete_${suffix}`];
  if (queue) programs.unshift(`block_rq_insert_${suffix}`);
  return { kind, programs, tracepoint: 'block/block_rq_issue' };
};
export const blockioVariants = (queue: boolean): HookVariant[] => [TP('tp_btf', queue), TP('raw_tp', queue), TP('tracepoint', queue)];
/** Programs no variant names without queue_time: never loaded then (libbpf loads what is not switched off). */
const INSERT_PROGRAMS = ['block_rq_insert_btf', 'block_rq_insert_raw', 'block_rq_insert_tp'];
const SCOPE = receiverScope('blockio');
const NS = 1e9;

/** One (device, op, cgroup) series as read from the kernel. */
export interface BlockSeries {
  dev: number; op: number; cgroupId: bigint;
  count: number; sumNs: number; bytes: number; queued: number; queueSumNs: number;
  hist: ReturnType<typeof readKernelHistogram>;
}

export function decodeSeries(keys: Buffer, values: Buffer, count: number, layout: HistogramLayout): BlockSeries[] {
  const out: BlockSeries[] = [];
  const K = BlockioKey.fields, V = BlockioValue.fields;
  for (let i = 0; i < count; i++) {
    const k = i * BlockioKey.size, v = i * BlockioValue.size;
    const hist = readKernelHistogram(values, v, V, layout);
    out.push({
      dev: keys.readUInt32LE(k + K.dev.offset), op: keys.readUInt32LE(k + K.op.offset), cgroupId: keys.readBigUInt64LE(k + K.cgroup_id.offset),
      count: hist.count, sumNs: hist.sum, hist,
      bytes: Number(values.readBigUInt64LE(v + V.bytes.offset)),
      queued: Number(values.readBigUInt64LE(v + V.queued.offset)),
      queueSumNs: Number(values.readBigUInt64LE(v + V.queue_sum.offset)),
    });
  }
  return out;
}

class BlockioReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<BlockioSettings>;
  private readonly settings: BlockioSettings;
  private readonly layout: HistogramLayout;
  private readonly boundsSeconds: number[];
  private readonly devices = new DeviceNames();
  private readonly cgroups = new CgroupPaths({ root: blkcgRoot(), rescanMs: 5000 });
  private readonly temporality: HistogramTemporality;
  private readonly host = resourceFromAttributes({ [ATTR_HOST_NAME]: hostname() });
  private readonly resources = new Map<string, Resource>();
  private loaded: LoadedProgram | undefined;
  private startTime: HrTime = [0, 0];
  private finalMetrics: ResourceMetrics[] | undefined;
  private state: 'idle' | 'running' | 'stopped' = 'idle';

  constructor(ctx: ReceiverContext<BlockioSettings>) {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
    this.layout = layoutFromSettings(this.settings.histogram);
    this.boundsSeconds = boundsNs(this.layout).map((b) => b / NS);
    this.temporality = new HistogramTemporality(this.settings.temporality === 'delta');
  }

  /** The thresholds (ns) the kernel buckets with; exported (in seconds) as the bucket bounds. */
  get bucketBoundsNs(): number[] { return boundsNs(this.layout); }

  async start(): Promise<void> {
    this.startTime = this.ctx.clock.now();
    const s = this.settings, inflight = inflightSlots(s.limits.in_flight);
    this.loaded = loadAndAttach({
      receiver: this.id,
      object: OBJECT,
      variants: blockioVariants(s.queue_time),
      skipPrograms: s.queue_time ? [] : INSERT_PROGRAMS,
      force: s.hook === 'auto' ? undefined : s.hook,
      globals: {
        sub_bits: u32(this.layout.subBits), min_exp: u32(this.layout.minExp), nbounds: u32(this.layout.nbounds),
        attribute_cgroups: u8(s.cgroups.attribute ? 1 : 0), track_queue: u8(s.queue_time ? 1 : 0), inflight_mask: u32(inflight.mask),
      },
      maxEntries: { inflight: inflight.slots, latency: s.limits.series, errors: s.limits.errors, cgroups: s.cgroups.max },
    });
    const { object, variant, skipped } = this.loaded;
    this.attachedTo = `${variant.kind}/block_rq_issue`;
    for (const x of skipped) this.ctx.diag.info(`${this.id}: not using ${x}`);
    if (this.ctx.bpfRunTimeStats) object.enableRunTimeStats();
    const t = this.ctx.selfTelemetry;
    t.addSource(kernelStatsSource(this.id, object.map('stats')));
    t.addSource(programStatsSource(this.id, object, variant.programs));
    const blockStats = object.map('block_stats');
    let unmatched = 0, evicted = 0, unattributed = 0;
    t.addSource((observe) => {
      try {
        unmatched = readCounter(blockStats, BlockioStat.BLOCKIO_STAT_UNMATCHED);
        evicted = readCounter(blockStats, BlockioStat.BLOCKIO_STAT_EVICTED);
        unattributed = readCounter(blockStats, BlockioStat.BLOCKIO_STAT_CGROUP_OVERFLOW);
      } catch { /* closed */ }
      // Not lost: counted in the unattributed series, because cgroups.max distinct cgroups were reached.
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: this.id, [ATTR_KOTEL_REASON]: 'cgroup_unattributed' }, unattributed);
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: this.id, [ATTR_KOTEL_REASON]: 'unmatched_completion' }, unmatched);
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: this.id, [ATTR_KOTEL_REASON]: 'inflight_evicted' }, evicted);
    });
    this.state = 'running';
  }

  private resourceFor(cgroupId: bigint): { resource: Resource; path?: string } {
    if (cgroupId === 0n) return { resource: this.host };
    const path = this.cgroups.path(cgroupId);
    const containerId = path ? containerIdFromCgroupPath(path) : undefined;
    if (!containerId) return { resource: this.host, path };
    let r = this.resources.get(containerId);
    if (!r) this.resources.set(containerId, (r = resourceFromAttributes({ [ATTR_HOST_NAME]: hostname(), [ATTR_CONTAINER_ID]: containerId })));
    return { resource: r, path };
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.finalMetrics) return this.finalMetrics;
    const object = this.loaded?.object;
    if (!object || this.state !== 'running') return [];
    const latency = object.map('latency');
    const { count, keys, values } = latency.dump();
    const series = decodeSeries(keys, values, count, this.layout);
    series.forEach((s, i) => perCpuMinMax((k) => latency.lookupPerCpu(k), keys.subarray(i * BlockioKey.size, (i + 1) * BlockioKey.size), s.hist, BlockioValue.fields));
    const errors = object.map('errors').dump();
    return this.build(series, errors.count, errors.keys, errors.values, now as [number, number]);
  }

  private build(series: BlockSeries[], errCount: number, errKeys: Buffer, errValues: Buffer, now: [number, number]): ResourceMetrics[] {
    const start = this.startTime as [number, number];
    const temporality = this.settings.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    const t = this.temporality;
    interface Group { resource: Resource; hist: HistogramPoint[] }
    const groups = new Map<Resource, Group>();
    // Device-level counters: summed over cgroups (host resource).
    const perDev = new Map<string, { dev: string; op: number; count: number; bytes: number; sumNs: number; queued: number; queueSumNs: number }>();
    for (const s of series) {
      const dev = this.devices.name(s.dev);
      const dk = `${dev}|${s.op}`;
      const d = perDev.get(dk) ?? { dev, op: s.op, count: 0, bytes: 0, sumNs: 0, queued: 0, queueSumNs: 0 };
      d.count += s.count; d.bytes += s.bytes; d.sumNs += s.sumNs; d.queued += s.queued; d.queueSumNs += s.queueSumNs;
      perDev.set(dk, d);
      const direction = ioDirection(s.op);
      if (!direction) continue;   // latency histograms: read and write only
      const { resource, path } = this.resourceFor(s.cgroupId);
      const attributes: Record<string, string> = { [ATTR_SYSTEM_DEVICE]: dev, [ATTR_DISK_IO_DIRECTION]: direction };
      if (path) attributes[ATTR_LINUX_CGROUP_PATH] = path;
      const next = t.next(`${s.dev}|${s.op}|${s.cgroupId}`, s.hist, now, start);
      if (!next) continue;
      let g = groups.get(resource);
      if (!g) groups.set(resource, (g = { resource, hist: [] }));
      g.hist.push({
        attributes, startTime: next.start, count: next.h.count, sum: next.h.sum / NS, counts: next.h.counts,
        min: next.h.min !== undefined ? next.h.min / NS : undefined, max: next.h.max !== undefined ? next.h.max / NS : undefined,
      });
    }
    const io: Point[] = [], ops: Point[] = [], time: Point[] = [], queue: Point[] = [], other: Point[] = [], otherTime: Point[] = [];
    const point = (key: string, value: number, attributes: Record<string, string>): Point => {
      const n = t.nextCount(key, value, now, start);
      return { attributes, value: n.value, startTime: n.start };
    };
    for (const [k, d] of perDev) {
      const direction = ioDirection(d.op);
      if (direction) {
        const a = { [ATTR_SYSTEM_DEVICE]: d.dev, [ATTR_DISK_IO_DIRECTION]: direction };
        io.push(point(`io|${k}`, d.bytes, a));
        ops.push(point(`ops|${k}`, d.count, a));
        time.push(point(`time|${k}`, d.sumNs / NS, a));
        if (this.settings.queue_time) queue.push(point(`queue|${k}`, d.queueSumNs / NS, a));
      } else {
        const a = { [ATTR_SYSTEM_DEVICE]: d.dev, [ATTR_LINUX_BLOCK_OPERATION]: blockOpName(d.op) };
        other.push(point(`other|${k}`, d.count, a));
        otherTime.push(point(`othertime|${k}`, d.sumNs / NS, a));
      }
    }
    const errs: Point[] = [];
    const statusCodes = this.loaded?.variant.kind !== 'tracepoint';
    for (let i = 0; i < errCount; i++) {
      const k = i * BlockioErrKey.size;
      const dev = errKeys.readUInt32LE(k + BlockioErrKey.fields.dev.offset);
      const op = errKeys.readUInt32LE(k + BlockioErrKey.fields.op.offset);
      const err = errKeys.readInt32LE(k + BlockioErrKey.fields.err.offset);
      errs.push(point(`err|${dev}|${op}|${err}`, Number(errValues.readBigUInt64LE(i * 8)), {
        [ATTR_SYSTEM_DEVICE]: this.devices.name(dev), [ATTR_LINUX_BLOCK_OPERATION]: blockOpName(op), [ATTR_ERROR_TYPE]: blockErrorType(err, statusCodes),
      }));
    }
    const hostMetrics: MetricData[] = [];
    const sum = (name: string, unit: string, desc: string, points: Point[], vt = ValueType.INT) => {
      if (points.length) hostMetrics.push(monotonicSum(name, unit, desc, now, points, temporality, vt));
    };
    sum(METRIC_SYSTEM_DISK_IO, 'By', 'Bytes transferred by completed block requests, per device and direction.', io);
    sum(METRIC_SYSTEM_DISK_OPERATIONS, '{operation}', 'Completed block read/write requests, per device and direction.', ops);
    sum(METRIC_SYSTEM_DISK_OPERATION_TIME, 's', 'Sum of the service time (issue to completion) of completed requests.', time, ValueType.DOUBLE);
    sum(METRIC_LINUX_BLOCK_QUEUE_TIME, 's', 'Sum of the time requests waited between insert and issue.', queue, ValueType.DOUBLE);
    sum(METRIC_LINUX_BLOCK_OPERATIONS, '{operation}', 'Completed block requests other than read and write (flush, discard, ...), per device and operation.', other);
    sum(METRIC_LINUX_BLOCK_OPERATION_TIME, 's', 'Sum of the service time of requests other than read and write.', otherTime, ValueType.DOUBLE);
    sum(METRIC_LINUX_BLOCK_ERRORS, '{error}', 'Block requests completed with an error, per device, operation and error.', errs);
    const out: ResourceMetrics[] = [];
    const hostGroup = groups.get(this.host);
    const duration = (points: HistogramPoint[]) => histogram(METRIC_LINUX_BLOCK_REQUEST_DURATION, 's',
      'Block request latency from issue to completion, bucketed in the kernel (bounds are the kernel thresholds).', now, this.boundsSeconds, points, temporality);
    if (hostGroup?.hist.length) hostMetrics.unshift(duration(hostGroup.hist));
    if (hostMetrics.length) out.push(resourceMetrics(this.host, SCOPE, hostMetrics));
    for (const g of groups.values()) if (g.resource !== this.host && g.hist.length) out.push(resourceMetrics(g.resource, SCOPE, [duration(g.hist)]));
    return out;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const loaded = this.loaded;
    if (loaded && this.state === 'running') {
      for (const p of loaded.variant.programs) loaded.object.detach(p);
      this.finalMetrics = this.collectMetrics(this.ctx.clock.now());
    }
    loaded?.object.close();
    this.loaded = undefined;
    this.state = 'stopped';
  }
}

function checkBlockio(settings: BlockioSettings): CheckItem[] {
  const s = withDefaults(settings);
  const items: CheckItem[] = [];
  try {
    const l = layoutFromSettings(s.histogram);
    items.push({ what: 'histogram', ok: true, detail: `${l.nbounds} bounds from 2^${l.minExp} ns, ${2 ** l.subBits} per power of two` });
  } catch (e) {
    items.push({ what: 'histogram', ok: false, detail: (e as Error).message, fix: 'adjust receivers.blockio.histogram' });
  }
  items.push(...hookChecks({
    variants: blockioVariants(s.queue_time), force: s.hook, label: 'block_rq_issue/complete', object: OBJECT,
    fix: 'run on Linux with BTF and tracepoints, as root',
  }));
  return items;
}

export const blockioReceiver: ReceiverFactory<BlockioSettings> = {
  type: 'blockio',
  description: 'Block I/O latency histograms (in-kernel, exact), bytes, operations and errors per device',
  signals: ['metrics'],
  schema: blockioSchema,
  check: checkBlockio,
  create: (ctx) => new BlockioReceiver(ctx),
};
