// The `cgroups` receiver: per container / service cgroup, CPU time and throttling, memory, page
// faults and PSI stall time, read from the cgroup files (v2 first, v1 controllers as the fallback on
// hybrid hosts) at each collection. No BPF: these stay cgroup-sourced by design. Block-I/O bytes,
// operations and service time come from the blockio receiver's eBPF data, never from io.stat.
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { hostCgroupLayout, readCgroupStats, type CgroupFsLayout } from '../../pipeline/cgroups.ts';
import { resourceMetrics } from '../../pipeline/metric-data.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import { ATTR_KOTEL_REASON, ATTR_KOTEL_RECEIVER, ATTR_LINUX_CGROUP_PATH } from '../../semconv/attributes.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { cgroupMetrics, selectCgroups, targetLayout, type CgroupTarget } from './mapping.ts';
import { cgroupsSchema, withDefaults, type CgroupsSettings } from './settings.ts';

const SCOPE = receiverScope('cgroups');

interface Tracked { base: Resource | undefined; resource: Resource; start: HrTime }

class CgroupsReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<CgroupsSettings>;
  private readonly settings: CgroupsSettings;
  private readonly tracked = new Map<string, Tracked>();
  private layout: CgroupFsLayout = { v1: new Map() };
  private include: RegExp[] = [];
  private exclude: RegExp[] = [];
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private finalMetrics: ResourceMetrics[] | undefined;
  private folded = 0;
  private readErrors = 0;
  private readonly procRoot: string;

  constructor(ctx: ReceiverContext<CgroupsSettings>, procRoot = '/proc') {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
    this.procRoot = procRoot;
  }

  async start(): Promise<void> {
    this.include = this.settings.include.map((p) => new RegExp(p));
    this.exclude = this.settings.exclude.map((p) => new RegExp(p));
    this.layout = hostCgroupLayout();
    const v1 = ['cpu', 'cpuacct', 'memory'].filter((c) => this.layout.v1.has(c));
    if (!this.layout.v2Root && !v1.length) throw new Error('no cgroup v2 hierarchy and no v1 cpu/cpuacct/memory controller is mounted (see kotel check)');
    this.attachedTo = [this.layout.v2Root ? `v2:${this.layout.v2Root}` : '', v1.length ? `v1:${v1.join('+')}` : ''].filter(Boolean).join(' ');
    if (this.settings.scan_proc) this.ctx.processes.scan();
    this.ctx.selfTelemetry.addSource((observe) => {
      const attrs = { [ATTR_KOTEL_RECEIVER]: this.id };
      observe('kotel.cgroups.tracked', attrs, this.tracked.size);
      observe('kotel.cgroups.folded', attrs, this.folded);
      observe('kotel.receiver.dropped', { ...attrs, [ATTR_KOTEL_REASON]: 'read_error' }, this.readErrors);
    });
    this.state = 'running';
  }

  /** Processes started since the last look are read once (peek/scan: not counted as cache lookups). */
  private discover(): void {
    let pids: string[];
    try { pids = readdirSync(this.procRoot); } catch { return; }
    for (const d of pids) {
      if (d.charCodeAt(0) > 57 || d.charCodeAt(0) < 48) continue;
      if (!this.ctx.processes.peek(Number(d))) { this.ctx.processes.scan(); return; }
    }
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.state !== 'running') return this.finalMetrics ?? [];
    if (this.settings.scan_proc) this.discover();
    const selection = selectCgroups(this.ctx.processes.live(), { containers: this.settings.containers, include: this.include, exclude: this.exclude, max: this.settings.max_cgroups }, new Set(this.tracked.keys()));
    this.folded = selection.folded;
    const out: ResourceMetrics[] = [];
    const keep = new Set<string>();
    for (const t of selection.targets) {
      const stats = readCgroupStats(t.v2Path ?? t.key, targetLayout(this.layout, t), t.v1Paths);
      if (!stats.cpu && !stats.memory && !stats.pressure.cpu && !stats.pressure.io && !stats.pressure.memory) {
        // Gone with its process (no exit event without the process receiver): forget it; else count.
        if (this.ctx.processes.isAlive(t.pid)) this.readErrors++; else this.ctx.processes.forget(t.pid);
        continue;
      }
      keep.add(t.key);
      const tracked = this.trackedFor(t, now);
      const metrics = cgroupMetrics(stats, now, tracked.start, this.settings.memory_stat);
      if (metrics.length) out.push(resourceMetrics(tracked.resource, SCOPE, metrics));
    }
    for (const k of this.tracked.keys()) if (!keep.has(k)) this.tracked.delete(k);
    return out;
  }

  private trackedFor(t: CgroupTarget, now: HrTime): Tracked {
    const base = this.ctx.processes.peekWorkload(t.pid);
    let tr = this.tracked.get(t.key);
    if (!tr || tr.base !== base) {
      const resource = resourceFromAttributes({ ...(base?.attributes ?? {}), [ATTR_LINUX_CGROUP_PATH]: t.key });
      tr = { base, resource, start: tr?.start ?? now };
      this.tracked.set(t.key, tr);
    }
    return tr;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'running') this.finalMetrics = this.collectMetrics(this.ctx.clock.now());
    this.state = 'stopped';
  }
}

function readable(path: string): boolean {
  try { accessSync(path, constants.R_OK); return true; } catch { return false; }
}

function checkCgroups(settings: CgroupsSettings): CheckItem[] {
  const s = withDefaults(settings);
  const layout = hostCgroupLayout();
  const items: CheckItem[] = [];
  const v2 = layout.v2Root;
  const v2ok = !!v2 && readable(join(v2, 'cpu.stat'));
  items.push({ what: 'cgroup v2 cpu.stat', ok: v2ok, detail: v2 ? (v2ok ? `${v2} (CPU time)` : `${v2}/cpu.stat not readable`) : 'no cgroup2 mount', fix: v2ok ? undefined : 'mount -t cgroup2 none /sys/fs/cgroup/unified (hybrid hosts) for CPU time and PSI' });
  const psi = !!v2 && readable(join(v2, 'cpu.pressure'));
  items.push({ what: 'cgroup v2 PSI', ok: psi, detail: psi ? 'cpu/io/memory.pressure readable' : 'no cpu.pressure in the v2 tree', fix: psi ? undefined : 'boot with psi=1 (CONFIG_PSI) for pressure stall time' });
  const v1: string[] = [];
  for (const [ctrl, file] of [['cpu', 'cpu.stat'], ['cpuacct', 'cpuacct.usage'], ['memory', 'memory.usage_in_bytes']] as const) {
    const m = layout.v1.get(ctrl);
    if (m && readable(join(m, file))) v1.push(ctrl);
  }
  const v2mem = !!v2 && readable(join(v2, 'cgroup.controllers')) && /\bmemory\b/.test(safeRead(join(v2, 'cgroup.controllers')));
  items.push({ what: 'cgroup v1 fallback', ok: true, detail: v1.length ? `v1 controllers readable: ${v1.join(', ')}` : layout.v1.size ? 'v1 controllers mounted but not readable' : 'no v1 controllers (unified host)' });
  if (!v2mem && !v1.includes('memory')) items.push({ what: 'memory accounting', ok: false, detail: 'no memory controller in v2 or v1', fix: 'enable the memory controller (cgroup_enable=memory) for memory metrics' });
  for (const p of [...s.include, ...s.exclude]) {
    try { new RegExp(p); } catch (e) { items.push({ what: 'include/exclude', ok: false, detail: (e as Error).message, fix: 'write a valid JavaScript regular expression' }); }
  }
  if (!v2ok && !v1.length) items.push({ what: 'receiver', ok: false, detail: 'no cgroup accounting file is readable', fix: 'run as root with /sys/fs/cgroup mounted' });
  return items;
}

function safeRead(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

export const cgroupsReceiver: ReceiverFactory<CgroupsSettings> = {
  type: 'cgroups',
  description: 'Per container / service cgroup: CPU time and throttling, memory, page faults, PSI stall time (cgroup v2, v1 fallback)',
  signals: ['metrics'],
  schema: cgroupsSchema,
  check: checkCgroups,
  create: (ctx) => new CgroupsReceiver(ctx),
};
