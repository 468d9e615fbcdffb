// The cgroups receiver's mapping: which cgroups of the process table are exported (containers, pods,
// systemd services, include/exclude, the max_cgroups bound), where their files are on a hybrid host,
// and one cgroup's accounting (fixtures copied from real systems) as OTel metric data.
import assert from 'node:assert/strict';
import type { SumMetricData, GaugeMetricData, MetricData } from '@opentelemetry/sdk-metrics';
import { readCgroupStats } from '../../../src/pipeline/cgroups.ts';
import type { ProcessInfo } from '../../../src/pipeline/processes.ts';
import { cgroupMetrics, selectCgroups, targetLayout, targetOf } from '../../../src/receivers/cgroups/mapping.ts';
import { DEFAULT_INCLUDE, DEFAULT_MEMORY_STAT } from '../../../src/receivers/cgroups/settings.ts';
import { cgroupIdentity } from '../../../src/pipeline/container-id.ts';

const FIXTURES = new URL('../../pipeline/fixtures', import.meta.url).pathname;
const CID = 'a'.repeat(64), CID2 = 'b'.repeat(64);
const POD = '0f3c2a1e-1234-4abc-9def-0123456789ab';

function proc(pid: number, v2: string, v1: Record<string, string> = {}): ProcessInfo {
  const id = cgroupIdentity(v2);
  return { pid, executableName: `p${pid}`, cgroupPath: v2, cgroupV2Path: v2, cgroupV1Paths: new Map(Object.entries(v1)), containerId: id.containerId, podUid: id.podUid };
}

const defaults = { containers: true, include: DEFAULT_INCLUDE.map((p) => new RegExp(p)), exclude: [], max: 100 };

describe('receivers/cgroups: which cgroups', () => {
  const table = [
    proc(10, `/system.slice/docker-${CID}.scope`),
    proc(11, `/system.slice/docker-${CID}.scope`),
    proc(20, `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${CID2}.scope`),
    proc(30, '/system.slice/nginx.service'),
    proc(31, '/system.slice/nginx.service/extra'),  // a sub-cgroup of a service: not by default
    proc(40, '/user.slice/user-0.slice/session-1.scope'),
    proc(1, '/init.scope'),
    proc(2, '/'),
  ];

  it('default: container and pod cgroups plus systemd services under system.slice, one target per cgroup, lowest pid', () => {
    const s = selectCgroups(table, defaults);
    assert.deepEqual(s.targets.map((t) => [t.key, t.pid]), [
      [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${CID2}.scope`, 20],
      ['/system.slice/nginx.service', 30],
      [`/system.slice/docker-${CID}.scope`, 10],
    ].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    assert.equal(s.folded, 0);
  });

  it('include and exclude patterns; containers: false', () => {
    const s = selectCgroups(table, { containers: false, include: [/^\/user\.slice\//, /nginx/], exclude: [/extra$/], max: 100 });
    assert.deepEqual(s.targets.map((t) => t.key).sort(), ['/system.slice/nginx.service', '/user.slice/user-0.slice/session-1.scope']);
    const ex = selectCgroups(table, { ...defaults, exclude: [/docker-/] });
    assert.ok(!ex.targets.some((t) => t.key.includes('docker-')));
  });

  it('bounded: max_cgroups, the rest folded; cgroups already exported keep their place', () => {
    const first = selectCgroups(table, { ...defaults, max: 1 });
    assert.equal(first.targets.length, 1);
    assert.equal(first.matched, 3);
    assert.equal(first.folded, 2);
    const kept = selectCgroups(table, { ...defaults, max: 1 }, new Set(['/system.slice/nginx.service']));
    assert.deepEqual(kept.targets.map((t) => t.key), ['/system.slice/nginx.service']);
  });

  it('hybrid host: v1 root paths are left out; a workload visible only in v1 is keyed by its v1 path', () => {
    const t = targetOf({ ...proc(5, `/docker/${CID}`, { memory: `/docker/${CID}`, cpu: '/', cpuacct: '/' }), cgroupV2Path: '/' })!;
    assert.equal(t.key, `/docker/${CID}`);
    assert.equal(t.v2Path, undefined);
    assert.deepEqual([...t.v1Paths.keys()], ['memory']);
    const layout = targetLayout({ v2Root: '/sys/fs/cgroup/unified', v1: new Map([['memory', '/m'], ['cpu', '/c']]) }, t);
    assert.equal(layout.v2Root, undefined);
    assert.deepEqual([...layout.v1.keys()], ['memory']);
    assert.equal(targetOf(proc(6, '/')), undefined);
  });
});

const byName = (ms: MetricData[]) => new Map(ms.map((m) => [m.descriptor.name, m]));
const values = (m: MetricData | undefined) => (m as SumMetricData | GaugeMetricData | undefined)?.dataPoints.map((p) => [p.attributes, p.value]);

describe('receivers/cgroups: one cgroup as metric data', () => {
  const now: [number, number] = [1700000010, 0], start: [number, number] = [1700000000, 0];

  it('cgroup v2: CPU time by mode, throttling, memory, page faults, PSI some/full per resource', () => {
    const m = byName(cgroupMetrics(readCgroupStats('cgroup-v2', { v2Root: FIXTURES, v1: new Map() }), now, start, DEFAULT_MEMORY_STAT));
    assert.deepEqual(values(m.get('container.cpu.time')), [[{ 'cpu.mode': 'user' }, 1179.34895], [{ 'cpu.mode': 'system' }, 803.571393]]);
    const cpu = m.get('container.cpu.time') as SumMetricData;
    assert.equal(cpu.isMonotonic, true);
    assert.deepEqual(cpu.dataPoints[0].startTime, start);
    assert.equal(cpu.descriptor.unit, 's');
    assert.deepEqual(values(m.get('linux.cgroup.cpu.throttled_periods')), [[{}, 37]]);
    assert.deepEqual(values(m.get('linux.cgroup.cpu.throttled_time')), [[{}, 4.312877]]);
    assert.deepEqual(values(m.get('container.memory.usage')), [[{}, 218234880]]);
    assert.deepEqual(values(m.get('container.memory.working_set')), [[{}, 218234880 - 73580544]]);
    assert.deepEqual(values(m.get('container.memory.rss')), [[{}, 94396416]]);
    const stat = new Map(values(m.get('linux.cgroup.memory.stat'))!.map(([a, v]) => [(a as Record<string, string>)['linux.cgroup.memory.type'], v]));
    assert.equal(stat.get('anon'), 94396416);
    assert.equal(stat.get('file'), 114688000);
    assert.ok(!stat.has('pgfault'));
    const faults = values(m.get('container.paging.faults'))!;
    assert.deepEqual(faults[1], [{ 'system.paging.fault.type': 'major' }, 412]);
    const psi = new Map(values(m.get('linux.cgroup.pressure.stall_time'))!.map(([a, v]) => [`${(a as Record<string, string>)['linux.pressure.resource']}/${(a as Record<string, string>)['linux.pressure.level']}`, v]));
    assert.equal(psi.get('cpu/some'), 447.711434);
    assert.equal(psi.get('cpu/full'), 0);
    assert.equal(psi.get('io/full'), 24.776055);
    assert.equal(psi.get('memory/some'), 0.001873);
    assert.ok(!m.has('system.disk.io') && ![...m.keys()].some((k) => k.includes('.io') && !k.includes('pressure')), 'block I/O never from io.stat');
  });

  it('cgroup v1 (hybrid fallback): total CPU time without a mode, v1 memory fields under v2 names, no PSI', () => {
    const v1 = new Map([['memory', FIXTURES], ['cpu', FIXTURES], ['cpuacct', FIXTURES]]);
    const m = byName(cgroupMetrics(readCgroupStats('cgroup-v1', { v2Root: '/nonexistent', v1 }), now, start, DEFAULT_MEMORY_STAT));
    assert.deepEqual(values(m.get('container.cpu.time')), [[{}, 2037699515589 / 1e9]]);
    assert.deepEqual(values(m.get('linux.cgroup.cpu.throttled_periods')), [[{}, 0]]);
    assert.deepEqual(values(m.get('container.memory.usage')), [[{}, 3997696]]);
    assert.deepEqual(values(m.get('container.memory.rss')), [[{}, 2277376]]);
    assert.ok(!m.has('linux.cgroup.pressure.stall_time'));
  });

  it('nothing readable: no metric data', () => {
    assert.deepEqual(cgroupMetrics({ pressure: {} }, now, start, DEFAULT_MEMORY_STAT), []);
  });
});
