// The `syscalls` receiver: failed syscalls (negative return) become log records, and their
// exact per-(process, syscall, errno) counts become the linux.syscall.errors counter.
import type { HrTime } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { RingReader, forEachRecord, type BpfObject } from '../../../native/index.ts';
import { detachAndDrain, loadAndAttach, u8, u32, u64, type HookVariant, type LoadedProgram } from '../../bpf/loader.ts';
import { THREAD_CTX_MAP } from '../../bpf/shared-maps.ts';
import { programStatsSource, ringStatsSource, kernelStatsSource } from '../../bpf/telemetry.ts';
import { ATTR_ERROR_TYPE, ATTR_LINUX_SYSCALL_NAME, ATTR_PROCESS_EXECUTABLE_NAME, METRIC_LINUX_SYSCALL_ERRORS } from '../../semconv/attributes.ts';
import { errnoName } from '../../semconv/errno.ts';
import { SyscallTable } from '../../semconv/syscalls.ts';
import { cumulativeSum, resourceMetrics, type Point } from '../../pipeline/metric-data.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import { cgroupIdOf } from '../../pipeline/cgroups.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { hookChecks } from '../checks.ts';
import { FailureAccounting } from './accounting.ts';
import { decodeSyscallFailure, SYSCALL_EVENT_SIZE, type SyscallFailure } from './decode.ts';
import { failureLogRecord } from './mapping.ts';
import { syscallsSchema, withDefaults, type SyscallsSettings } from './settings.ts';
import { SyscallCounter, SyscallKey, SyscallWatch, SyscallArgKind } from './syscalls.layout.ts';
import { CATEGORIES, compileWatchList, type WatchEntry } from './watchlist.ts';
import { KotelEventKind } from '../../bpf/kotel-event.layout.ts';

const OBJECT = 'syscalls.bpf.o';
const VARIANTS: HookVariant[] = [
  { kind: 'tp_btf', programs: ['sys_exit_btf'], tracepoint: 'raw_syscalls/sys_exit' },
  { kind: 'raw_tp', programs: ['sys_exit_raw'], tracepoint: 'raw_syscalls/sys_exit' },
  { kind: 'tracepoint', programs: ['sys_exit_tp'], tracepoint: 'raw_syscalls/sys_exit' },
];
const SWEEP_MS = 1000;
const SCOPE = receiverScope('syscalls');

class SyscallsReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<SyscallsSettings>;
  private readonly settings: SyscallsSettings;
  private readonly table = new SyscallTable();
  private readonly accounting = new FailureAccounting();
  private readonly lastFailure = new Map<string, SyscallFailure>();
  private readonly firstSeen = new Map<string, HrTime>();
  private watch = new Map<number, WatchEntry>();
  private loaded: LoadedProgram | undefined;
  private ring: RingReader | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private decodeErrors = 0;
  private state: 'idle' | 'running' | 'draining' | 'stopped' = 'idle';
  private startTime: HrTime = [0, 0];
  private finalMetrics: ResourceMetrics[] | undefined;
  private readonly commByTgid = new Map<number, string>();

  constructor(ctx: ReceiverContext<SyscallsSettings>) {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
  }

  async start(): Promise<void> {
    this.startTime = this.ctx.clock.now();
    this.watch = compileWatchList(this.settings.watch, this.table, this.settings.include_routine);
    const filters = this.settings.filters;
    this.loaded = loadAndAttach({
      receiver: this.id,
      object: OBJECT,
      variants: VARIANTS,
      force: this.settings.hook === 'auto' ? undefined : this.settings.hook,
      sharedMaps: [THREAD_CTX_MAP],
      globals: {
        self_tgid: u32(process.pid),
        records_per_window: u32(this.settings.rate_limit.records_per_second),
        window_ns: u64(1_000_000_000),
        filter_tgids: u8(filters.pids.length ? 1 : 0),
        filter_cgroups: u8(filters.cgroups.length ? 1 : 0),
      },
      beforeAttach: (obj) => this.fillMaps(obj),
    });
    const { object, variant, skipped } = this.loaded;
    this.attachedTo = `${variant.kind}/${variant.tracepoint.split('/').pop()}`;
    for (const s of skipped) this.ctx.diag.info(`${this.id}: not using ${s}`);
    if (this.ctx.bpfRunTimeStats) object.enableRunTimeStats();

    this.ring = new RingReader(object.map('events'), (batch, count) => this.onBatch(batch, count), { intervalMs: 5 });
    this.ring.unref();
    const t = this.ctx.selfTelemetry;
    t.addSource(ringStatsSource(this.id, this.ring, () => this.decodeErrors));
    t.addSource(kernelStatsSource(this.id, object.map('stats')));
    t.addSource(programStatsSource(this.id, object, variant.programs));
    this.sweepTimer = setInterval(() => this.sweep(false), SWEEP_MS).unref();
    this.state = 'running';
  }

  private fillMaps(obj: BpfObject): void {
    const watchMap = obj.map('watch');
    const W = SyscallWatch.fields;
    for (const entry of this.watch.values()) {
      const value = Buffer.alloc(SyscallWatch.size);
      for (const e of entry.errnos) {
        const word = Math.floor(e / 64);
        if (word * 8 >= W.errno_mask.size) continue;
        const at = W.errno_mask.offset + word * 8;
        value.writeBigUInt64LE(value.readBigUInt64LE(at) | (1n << BigInt(e % 64)), at);
      }
      value.writeUInt8(1, W.watched.offset);
      value.writeUInt8(CATEGORIES.indexOf(entry.category), W.category.offset);
      value.writeUInt8(entry.arg?.kind ?? SyscallArgKind.SYSCALL_ARG_NONE, W.arg_kind.offset);
      value.writeUInt8(entry.arg?.index ?? 0, W.arg_index.offset);
      watchMap.update(u32(entry.nr), value);
    }
    for (const pid of this.settings.filters.pids) obj.map('tgid_filter').update(u32(pid), u8(1));
    for (const path of this.settings.filters.cgroups) {
      let id: bigint;
      try {
        id = cgroupIdOf(path);
      } catch (err) {
        throw new Error(`receivers.${this.id}.filters.cgroups: cannot resolve ${path}: ${(err as Error).message}`);
      }
      obj.map('cgroup_filter').update(u64(id), u8(1));
    }
  }

  private onBatch(batch: Buffer, count: number): void {
    if ((this.state !== 'running' && this.state !== 'draining') || !this.ctx.emitLog) return;
    const observed = this.ctx.clock.now();
    forEachRecord(batch, count, (view, offset, length) => {
      if (length < SYSCALL_EVENT_SIZE || view.getUint16(offset, true) !== KotelEventKind.KOTEL_EVENT_SYSCALL_FAILURE) {
        this.decodeErrors++;
        return;
      }
      const failure = decodeSyscallFailure(batch, offset, view);
      const key = `${failure.tgid}:${failure.nr}:${failure.errno}`;
      const occurrences = this.accounting.onRecord(key, failure.coveredFrom, failure.coveredTo);
      this.lastFailure.set(key, failure);
      this.commByTgid.set(failure.tgid, failure.comm);
      if (occurrences > 0) this.emit(key, failure, occurrences, this.ctx.clock.toHrTime(failure.tsNs), observed);
    });
  }

  /** A record the export queue refuses is owed: the next fold reports its occurrences. */
  private emit(key: string, failure: SyscallFailure, occurrences: number, time: HrTime, observed: HrTime): void {
    const accepted = this.ctx.emitLog?.(failureLogRecord({
      syscall: this.table.name(failure.nr),
      failure,
      occurrences,
      time,
      observed,
      resource: this.ctx.processes.resource(failure.tgid, failure.comm),
    }));
    if (accepted === false) this.accounting.refuse(key, occurrences);
  }

  /** Reads the exact counters, folds what the rate limit held back, retires dead processes. */
  private sweep(final: boolean): void {
    const object = this.loaded?.object;
    if (!object) return;
    const { count, keys, values } = object.map('counters').dump();
    const K = SyscallKey.fields;
    const C = SyscallCounter.fields;
    const now = this.ctx.clock.now();
    const retireAfter = Math.ceil(this.ctx.metricsIntervalMs / SWEEP_MS) + 1;
    const alive = new Map<number, boolean>();  // one /proc look-up per process per sweep
    for (let i = 0; i < count; i++) {
      const k = i * SyscallKey.size;
      const v = i * SyscallCounter.size;
      const tgid = keys.readUInt32LE(k + K.tgid.offset);
      const nr = keys.readUInt32LE(k + K.nr.offset);
      const err = keys.readUInt32LE(k + K.err.offset);
      const total = Number(values.readBigUInt64LE(v + C.total.offset));
      const emitted = Number(values.readBigUInt64LE(v + C.emitted.offset));
      const key = `${tgid}:${nr}:${err}`;
      if (this.ctx.emitLog) {
        const fold = this.accounting.sweep(key, total, emitted, final);
        if (fold > 0) {
          const last = this.lastFailure.get(key) ?? this.bareFailure(tgid, nr, err);
          this.emit(key, { ...last, tid: last.tid || tgid, traceId: undefined, spanId: undefined }, fold, now, now);
        }
      }
      let isAlive = alive.get(tgid);
      if (isAlive === undefined) alive.set(tgid, (isAlive = this.ctx.processes.isAlive(tgid)));
      if (!final && this.accounting.retire(key, isAlive, retireAfter)) {
        object.map('counters').delete(keys.subarray(k, k + SyscallKey.size));
        this.lastFailure.delete(key);
        this.firstSeen.delete(key);
        this.commByTgid.delete(tgid);
        this.ctx.processes.forget(tgid);
      }
    }
  }

  private bareFailure(tgid: number, nr: number, errno: number): SyscallFailure {
    const entry = this.watch.get(nr);
    return {
      tsNs: 0n, tgid, tid: tgid, uid: 0, nr, errno, argKind: SyscallArgKind.SYSCALL_ARG_NONE,
      category: entry ? CATEGORIES.indexOf(entry.category) : 0, cgroupId: 0n, coveredFrom: 0, coveredTo: 0,
      argValue: 0n, address: undefined, port: 0, comm: '', path: '',
    };
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.finalMetrics) return this.finalMetrics;
    const object = this.loaded?.object;
    if (!object) return [];
    const { count, keys, values } = object.map('counters').dump();
    const byProcess = new Map<number, Point[]>();
    for (let i = 0; i < count; i++) {
      const k = i * SyscallKey.size;
      const tgid = keys.readUInt32LE(k + SyscallKey.fields.tgid.offset);
      const nr = keys.readUInt32LE(k + SyscallKey.fields.nr.offset);
      const err = keys.readUInt32LE(k + SyscallKey.fields.err.offset);
      const total = Number(values.readBigUInt64LE(i * SyscallCounter.size + SyscallCounter.fields.total.offset));
      const key = `${tgid}:${nr}:${err}`;
      let start = this.firstSeen.get(key);
      if (!start) this.firstSeen.set(key, (start = this.startTime));
      const comm = this.commByTgid.get(tgid) ?? '';
      let points = byProcess.get(tgid);
      if (!points) byProcess.set(tgid, (points = []));
      points.push({
        startTime: start,
        value: total,
        attributes: {
          [ATTR_LINUX_SYSCALL_NAME]: this.table.name(nr),
          [ATTR_ERROR_TYPE]: errnoName(err),
          [ATTR_PROCESS_EXECUTABLE_NAME]: this.ctx.processes.info(tgid, comm).executableName,
        },
      });
    }
    return [...byProcess].map(([tgid, points]) => resourceMetrics(
      this.ctx.processes.resource(tgid, this.commByTgid.get(tgid)),
      SCOPE,
      [cumulativeSum(METRIC_LINUX_SYSCALL_ERRORS, '{error}', 'Failed syscalls counted in the kernel, per process, syscall and errno.', now, points)],
    ));
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'draining';
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const loaded = this.loaded;
    if (loaded && this.ring && wasRunning) {
      // Detach first so nothing new is counted, let the reader drain, then fold the rest.
      await detachAndDrain(loaded, this.ring);
      this.sweep(true);
      this.finalMetrics = this.collectMetrics(this.ctx.clock.now());
    }
    this.ring?.close();
    loaded?.object.close();
    this.loaded = undefined;
    this.state = 'stopped';
  }
}

function checkSyscalls(settings: SyscallsSettings): CheckItem[] {
  return hookChecks({
    variants: VARIANTS, force: withDefaults(settings).hook, label: 'raw_syscalls/sys_exit', object: OBJECT,
    fix: 'see the failed hooks above: each names its fix',
  });
}

export const syscallsReceiver: ReceiverFactory<SyscallsSettings> = {
  type: 'syscalls',
  description: 'Failed syscalls as log records and the linux.syscall.errors counter',
  signals: ['logs', 'metrics'],
  schema: syscallsSchema,
  check: checkSyscalls,
  create: (ctx) => new SyscallsReceiver(ctx),
};
