// Which cgroups the cgroups receiver exports (from the process table), where their files are on
// unified and hybrid hosts, and the mapping of one cgroup's accounting to OTel metric data.
import { ValueType, type HrTime } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { CgroupFsLayout, CgroupStats } from '../../pipeline/cgroups.ts';
import { workingSet } from '../../pipeline/cgroups.ts';
import { cumulativeSum, gauge, type Point } from '../../pipeline/metric-data.ts';
import type { ProcessInfo } from '../../pipeline/processes.ts';
import {
  ATTR_CPU_MODE, ATTR_LINUX_CGROUP_MEMORY_TYPE, ATTR_LINUX_PRESSURE_LEVEL, ATTR_LINUX_PRESSURE_RESOURCE, ATTR_SYSTEM_PAGING_FAULT_TYPE,
  METRIC_CONTAINER_CPU_TIME, METRIC_CONTAINER_MEMORY_RSS, METRIC_CONTAINER_MEMORY_USAGE, METRIC_CONTAINER_MEMORY_WORKING_SET,
  METRIC_CONTAINER_PAGING_FAULTS, METRIC_LINUX_CGROUP_CPU_THROTTLED_PERIODS, METRIC_LINUX_CGROUP_CPU_THROTTLED_TIME,
  METRIC_LINUX_CGROUP_MEMORY_STAT, METRIC_LINUX_CGROUP_PRESSURE_STALL_TIME,
} from '../../semconv/attributes.ts';

/** One cgroup to export: its key (the path exported as linux.cgroup.path) and where to read it. */
export interface CgroupTarget {
  key: string;
  /** v2 path to read, or undefined when the workload is only visible in v1 hierarchies. */
  v2Path?: string;
  /** v1 controller → path (root paths left out: the root is the host, not the workload). */
  v1Paths: Map<string, string>;
  /** The lowest pid in the cgroup: its workload resource is the cgroup's. */
  pid: number;
}

export interface Selection { targets: CgroupTarget[]; matched: number; folded: number }

export interface SelectOptions { containers: boolean; include: RegExp[]; exclude: RegExp[]; max: number }

/** Where one process's cgroup is: the v2 path unless it is the root (hybrid host, workload in v1 only). */
export function targetOf(info: ProcessInfo): CgroupTarget | undefined {
  const v1Paths = new Map([...(info.cgroupV1Paths ?? new Map<string, string>())].filter(([, p]) => p !== '/'));
  const v2 = info.cgroupV2Path && info.cgroupV2Path !== '/' ? info.cgroupV2Path : undefined;
  const key = v2 ?? (info.cgroupPath && info.cgroupPath !== '/' ? info.cgroupPath : undefined);
  if (!key) return undefined;
  return { key, v2Path: v2, v1Paths, pid: info.pid };
}

function selected(info: ProcessInfo, key: string, o: SelectOptions): boolean {
  const paths = [key, info.cgroupPath].filter((p): p is string => !!p);
  if (o.exclude.some((re) => paths.some((p) => re.test(p)))) return false;
  if (o.containers && (info.containerId || info.podUid)) return true;
  return o.include.some((re) => paths.some((p) => re.test(p)));
}

/**
 * The cgroups of the known live processes that the settings select, at most `max`: cgroups already
 * exported (`previous`) keep their place, new ones are taken in path order, the rest are folded.
 */
export function selectCgroups(processes: Iterable<ProcessInfo>, o: SelectOptions, previous: ReadonlySet<string> = new Set()): Selection {
  const byKey = new Map<string, CgroupTarget>();
  for (const info of processes) {
    const t = targetOf(info);
    if (!t || !selected(info, t.key, o)) continue;
    const seen = byKey.get(t.key);
    if (!seen) byKey.set(t.key, t);
    else if (info.pid < seen.pid) byKey.set(t.key, { ...t, v1Paths: seen.v1Paths.size >= t.v1Paths.size ? seen.v1Paths : t.v1Paths });
  }
  const keys = [...byKey.keys()].sort((a, b) => Number(previous.has(b)) - Number(previous.has(a)) || (a < b ? -1 : a > b ? 1 : 0));
  const kept = keys.slice(0, o.max);
  return { targets: kept.map((k) => byKey.get(k)!), matched: keys.length, folded: keys.length - kept.length };
}

/** The layout to read a target with: v1 controllers limited to those the workload has its own cgroup in. */
export function targetLayout(host: CgroupFsLayout, t: CgroupTarget): CgroupFsLayout {
  return { v2Root: t.v2Path ? host.v2Root : undefined, v1: new Map([...host.v1].filter(([ctrl]) => t.v1Paths.has(ctrl))) };
}

const PRESSURE_RESOURCES = ['cpu', 'io', 'memory'] as const;
const LEVELS = ['some', 'full'] as const;

/** One cgroup's accounting as metric data (cumulative points start at `start`, when the cgroup was first seen). */
export function cgroupMetrics(s: CgroupStats, now: HrTime, start: HrTime, memoryStat: readonly string[]): MetricData[] {
  const out: MetricData[] = [];
  const sum = (name: string, unit: string, description: string, points: Array<Omit<Point, 'startTime'>>, valueType = ValueType.DOUBLE) => {
    if (points.length) out.push(cumulativeSum(name, unit, description, now, points.map((p) => ({ ...p, startTime: start })), valueType));
  };
  if (s.cpu) {
    const { userSec, systemSec } = s.cpu;
    sum(METRIC_CONTAINER_CPU_TIME, 's', 'CPU time consumed by the cgroup on all CPUs (cpu.stat usage_usec; v1 cpuacct.usage), by mode when the kernel splits it.',
      userSec !== undefined && systemSec !== undefined
        ? [{ attributes: { [ATTR_CPU_MODE]: 'user' }, value: userSec }, { attributes: { [ATTR_CPU_MODE]: 'system' }, value: systemSec }]
        : [{ attributes: {}, value: s.cpu.usageSec }]);
    if (s.cpu.nrThrottled !== undefined) {
      sum(METRIC_LINUX_CGROUP_CPU_THROTTLED_PERIODS, '{period}', 'CFS periods in which the cgroup was throttled (cpu.stat nr_throttled).', [{ attributes: {}, value: s.cpu.nrThrottled }], ValueType.INT);
    }
    if (s.cpu.throttledSec !== undefined) {
      sum(METRIC_LINUX_CGROUP_CPU_THROTTLED_TIME, 's', 'Time the cgroup was throttled (cpu.stat throttled_usec; v1 throttled_time).', [{ attributes: {}, value: s.cpu.throttledSec }]);
    }
  }
  if (s.memory) {
    const m = s.memory;
    const g = (name: string, description: string, value: number | undefined) => {
      if (value !== undefined && Number.isFinite(value)) out.push(gauge(name, 'By', description, now, [{ attributes: {}, value }]));
    };
    g(METRIC_CONTAINER_MEMORY_USAGE, 'Memory charged to the cgroup (memory.current; v1 memory.usage_in_bytes).', m.usageBytes);
    g(METRIC_CONTAINER_MEMORY_WORKING_SET, 'Usage minus inactive file pages (what the container runtimes call the working set).', workingSet(m));
    g(METRIC_CONTAINER_MEMORY_RSS, 'Anonymous memory (memory.stat anon; v1 rss).', m.stat.get('anon'));
    const fields = memoryStat.filter((f) => m.stat.has(f));
    if (fields.length) {
      out.push(gauge(METRIC_LINUX_CGROUP_MEMORY_STAT, 'By', 'memory.stat fields of the cgroup, by field (v2 names; v1 fields mapped).', now,
        fields.map((f) => ({ attributes: { [ATTR_LINUX_CGROUP_MEMORY_TYPE]: f }, value: m.stat.get(f)! }))));
    }
    const all = m.stat.get('pgfault'), major = m.stat.get('pgmajfault');
    if (all !== undefined && major !== undefined) {
      sum(METRIC_CONTAINER_PAGING_FAULTS, '{fault}', 'Page faults in the cgroup (memory.stat pgfault, pgmajfault).', [
        { attributes: { [ATTR_SYSTEM_PAGING_FAULT_TYPE]: 'minor' }, value: Math.max(0, all - major) },
        { attributes: { [ATTR_SYSTEM_PAGING_FAULT_TYPE]: 'major' }, value: major },
      ], ValueType.INT);
    }
  }
  const stalls: Array<Omit<Point, 'startTime'>> = [];
  for (const r of PRESSURE_RESOURCES) {
    for (const level of LEVELS) {
      const line = s.pressure[r]?.[level];
      if (line && Number.isFinite(line.totalUs)) stalls.push({ attributes: { [ATTR_LINUX_PRESSURE_RESOURCE]: r, [ATTR_LINUX_PRESSURE_LEVEL]: level }, value: line.totalUs / 1e6 });
    }
  }
  sum(METRIC_LINUX_CGROUP_PRESSURE_STALL_TIME, 's', 'Time tasks of the cgroup were stalled on a resource (PSI total; some: at least one task, full: all non-idle tasks).', stalls);
  return out;
}
