// cgroup hierarchies on unified and hybrid hosts: where v2 and the v1 controllers are mounted,
// cgroup id → path resolution (cached, at most one bounded tree walk per interval on a miss),
// and the v2 (v1 as a fallback) accounting files the cgroups receiver reads.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones. */
export function cgroup2Root(mounts = readMounts()): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2') return mountPoint;
  }
  return undefined;
}

/** v1 controller → mount point (e.g. memory → /sys/fs/cgroup/memory); empty on unified hosts. */
export function cgroupV1Mounts(mounts = readMounts()): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of mounts.split('\n')) {
    const [, mountPoint, type, options] = line.split(' ');
    if (type !== 'cgroup' || !options) continue;
    for (const opt of options.split(',')) if (['cpu', 'cpuacct', 'memory', 'blkio', 'pids', 'cpuset'].includes(opt) && !out.has(opt)) out.set(opt, mountPoint);
  }
  return out;
}

function readMounts(): string {
  try { return readFileSync('/proc/mounts', 'utf8'); } catch { return ''; }
}

/** The kernel's cgroup id for a v2 path (its directory's inode number), as bpf_get_current_cgroup_id() reports it. */
export function cgroupIdOf(path: string, root = cgroup2Root()): bigint {
  if (!root) throw new Error('no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)');
  return statSync(join(root, path), { bigint: true }).ino;
}

/** The cgroup paths of a process from /proc/<pid>/cgroup: the v2 path and each v1 controller's. */
export interface ProcCgroups { v2?: string; v1: Map<string, string> }

export function parseProcCgroup(text: string): ProcCgroups {
  const out: ProcCgroups = { v1: new Map() };
  for (const line of text.split('\n')) {
    const first = line.indexOf(':'), second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const hid = line.slice(0, first), controllers = line.slice(first + 1, second), path = line.slice(second + 1);
    if (hid === '0' && controllers === '') out.v2 = path;
    else for (const c of controllers.split(',')) out.v1.set(c.replace(/^name=/, 'name='), path);
  }
  return out;
}

/**
 * cgroup id → v2 path. Known paths are registered by the process table (from /proc/<pid>/cgroup);
 * an unknown id triggers a walk of the tree at most once per `rescanMs`, bounded to `maxEntries`.
 */
export class CgroupPaths {
  private readonly byId = new Map<bigint, string>();
  private readonly root: string | undefined;
  private readonly maxEntries: number;
  private readonly rescanMs: number;
  private lastScan = -Infinity;
  scans = 0;
  constructor(opts: { root?: string; maxEntries?: number; rescanMs?: number } = {}) {
    this.root = opts.root ?? cgroup2Root();
    this.maxEntries = opts.maxEntries ?? 16384;
    this.rescanMs = opts.rescanMs ?? 1000;
  }

  register(path: string): bigint | undefined {
    if (!this.root) return undefined;
    try {
      const id = cgroupIdOf(path, this.root);
      this.remember(id, path);
      return id;
    } catch { return undefined; }
  }

  path(id: bigint): string | undefined {
    const hit = this.byId.get(id);
    if (hit !== undefined || !this.root) return hit;
    const now = Date.now();
    if (now - this.lastScan < this.rescanMs) return undefined;
    this.lastScan = now;
    this.scan();
    return this.byId.get(id);
  }

  private remember(id: bigint, path: string): void {
    this.byId.delete(id);
    this.byId.set(id, path);
    if (this.byId.size > this.maxEntries) this.byId.delete(this.byId.keys().next().value!);
  }

  private scan(): void {
    this.scans++;
    const stack = ['/'];
    let seen = 0;
    while (stack.length && seen < this.maxEntries) {
      const rel = stack.pop()!;
      try {
        const st = statSync(join(this.root!, rel), { bigint: true });
        this.remember(st.ino, rel);
        seen++;
        for (const d of readdirSync(join(this.root!, rel), { withFileTypes: true })) if (d.isDirectory()) stack.push(rel === '/' ? `/${d.name}` : `${rel}/${d.name}`);
      } catch { /* removed while walking */ }
    }
  }
}

// ---- accounting files -----------------------------------------------------------------------

/** "key value" lines (cpu.stat, memory.stat, v1 cpu.stat). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1).trim());
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v);
  }
  return out;
}

export interface PressureLine { avg10: number; avg60: number; avg300: number; totalUs: number }
export interface Pressure { some?: PressureLine; full?: PressureLine }

/** cpu.pressure / io.pressure / memory.pressure: "some avg10=0.00 avg60=0.00 avg300=0.00 total=123". */
export function parsePressure(text: string): Pressure {
  const out: Pressure = {};
  for (const line of text.split('\n')) {
    const [level, ...fields] = line.trim().split(/\s+/);
    if (level !== 'some' && level !== 'full') continue;
    const kv = new Map(fields.map((f) => f.split('=') as [string, string]));
    out[level] = { avg10: Number(kv.get('avg10')), avg60: Number(kv.get('avg60')), avg300: Number(kv.get('avg300')), totalUs: Number(kv.get('total')) };
  }
  return out;
}

/** One cgroup's accounting, in OTel units (seconds, bytes); fields absent when the host does not provide them. */
export interface CgroupStats {
  cpu?: { usageSec: number; userSec?: number; systemSec?: number; nrPeriods?: number; nrThrottled?: number; throttledSec?: number; source: 'v1' | 'v2' };
  memory?: { usageBytes?: number; stat: Map<string, number>; source: 'v1' | 'v2' };
  pressure: { cpu?: Pressure; io?: Pressure; memory?: Pressure };
}

export interface CgroupFsLayout { v2Root?: string; v1: Map<string, string> }

export function hostCgroupLayout(): CgroupFsLayout {
  const mounts = readMounts();
  return { v2Root: cgroup2Root(mounts), v1: cgroupV1Mounts(mounts) };
}

function tryRead(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/**
 * Reads a cgroup's CPU, memory and PSI accounting: cgroup v2 first; for what v2 lacks on a hybrid
 * host (controllers bound to v1), the same path (or `v1Paths[controller]`) under the v1 controller.
 */
export function readCgroupStats(path: string, layout: CgroupFsLayout, v1Paths?: Map<string, string>): CgroupStats {
  const v2 = layout.v2Root ? join(layout.v2Root, path) : undefined;
  const v1 = (ctrl: string) => { const m = layout.v1.get(ctrl); return m ? join(m, v1Paths?.get(ctrl) ?? path) : undefined; };
  const out: CgroupStats = { pressure: {} };

  const cpuStat = tryRead(v2 && join(v2, 'cpu.stat'));
  if (cpuStat) {
    const s = parseFlatKeyed(cpuStat);
    out.cpu = { usageSec: (s.get('usage_usec') ?? 0) / 1e6, userSec: opt(s.get('user_usec'), 1e6), systemSec: opt(s.get('system_usec'), 1e6), source: 'v2' };
    if (s.has('nr_throttled')) Object.assign(out.cpu, { nrPeriods: s.get('nr_periods'), nrThrottled: s.get('nr_throttled'), throttledSec: opt(s.get('throttled_usec'), 1e6) });
  }
  if (!out.cpu?.nrThrottled && out.cpu?.nrThrottled !== 0) {
    const v1cpu = tryRead(v1('cpu') && join(v1('cpu')!, 'cpu.stat'));
    const usage = tryRead(v1('cpuacct') && join(v1('cpuacct')!, 'cpuacct.usage'));
    if (v1cpu || usage) {
      const s = parseFlatKeyed(v1cpu ?? '');
      out.cpu ??= { usageSec: Number(usage ?? 0) / 1e9, source: 'v1' };
      if (s.has('nr_throttled')) Object.assign(out.cpu, { nrPeriods: s.get('nr_periods'), nrThrottled: s.get('nr_throttled'), throttledSec: (s.get('throttled_time') ?? 0) / 1e9 });
    }
  }

  const current = tryRead(v2 && join(v2, 'memory.current'));
  if (current !== undefined) {
    out.memory = { usageBytes: Number(current), stat: parseFlatKeyed(tryRead(join(v2!, 'memory.stat')) ?? ''), source: 'v2' };
  } else {
    const usage = tryRead(v1('memory') && join(v1('memory')!, 'memory.usage_in_bytes'));
    if (usage !== undefined) {
      const raw = parseFlatKeyed(tryRead(join(v1('memory')!, 'memory.stat')) ?? '');
      // v1 names → v2 names for the fields kotel exports (the cgroup's own, not total_* of descendants).
      const stat = new Map<string, number>();
      for (const [k1, k2] of [['rss', 'anon'], ['cache', 'file'], ['shmem', 'shmem'], ['mapped_file', 'file_mapped'], ['inactive_file', 'inactive_file'], ['active_file', 'active_file'], ['pgfault', 'pgfault'], ['pgmajfault', 'pgmajfault']] as const) {
        const v = raw.get(k1);
        if (v !== undefined) stat.set(k2, v);
      }
      out.memory = { usageBytes: Number(usage), stat, source: 'v1' };
    }
  }

  for (const r of ['cpu', 'io', 'memory'] as const) {
    const p = tryRead(v2 && join(v2, `${r}.pressure`));
    if (p) out.pressure[r] = parsePressure(p);
  }
  return out;
}

function opt(v: number | undefined, div: number): number | undefined {
  return v === undefined ? undefined : v / div;
}

/** Working set as the container runtimes define it: usage minus inactive file pages. */
export function workingSet(m: NonNullable<CgroupStats['memory']>): number | undefined {
  if (m.usageBytes === undefined) return undefined;
  return Math.max(0, m.usageBytes - (m.stat.get('inactive_file') ?? 0));
}
