import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CgroupPaths, cgroup2Root, cgroupIdOf, cgroupV1Mounts, parseFlatKeyed, parsePressure, parseProcCgroup, readCgroupStats, workingSet,
} from '../../src/pipeline/cgroups.ts';

const FIXTURES = new URL('./fixtures', import.meta.url).pathname;

describe('pipeline: cgroup v2 root', () => {
  it('finds the v2 tree on unified and hybrid hosts', () => {
    assert.equal(cgroup2Root('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n'), '/sys/fs/cgroup');
    const hybrid = 'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
    assert.equal(cgroup2Root(hybrid), '/sys/fs/cgroup/unified');
    assert.equal(cgroup2Root('proc /proc proc rw 0 0\n'), undefined);
  });

  it('finds the v1 controllers of a hybrid host', () => {
    const m = cgroupV1Mounts('cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n'
      + 'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n');
    assert.deepEqual([...m], [['memory', '/sys/fs/cgroup/memory'], ['cpu', '/sys/fs/cgroup/cpu,cpuacct'], ['cpuacct', '/sys/fs/cgroup/cpu,cpuacct']]);
  });

  it('parses /proc/<pid>/cgroup of a hybrid host', () => {
    const cg = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/9e6c\n2:cpu,cpuacct:/docker/abc\n0::/kubepods/pod1\n');
    assert.equal(cg.v2, '/kubepods/pod1');
    assert.equal(cg.v1.get('memory'), '/process_api/9e6c');
    assert.equal(cg.v1.get('cpuacct'), '/docker/abc');
    assert.equal(cg.v1.get('name=systemd'), '/');
  });
});

describe('pipeline: cgroup accounting files (fixtures copied from real systems)', () => {
  it('cpu.stat and memory.stat are flat keyed', () => {
    const s = parseFlatKeyed(`${'usage_usec 1982920343\nuser_usec 1179348950\n'}core_sched.force_idle_usec 0\n\n`);
    assert.deepEqual([...s], [['usage_usec', 1982920343], ['user_usec', 1179348950], ['core_sched.force_idle_usec', 0]]);
  });

  it('PSI files: some and full totals in microseconds', () => {
    assert.deepEqual(parsePressure('some avg10=1.10 avg60=1.92 avg300=2.69 total=35821987\nfull avg10=0.55 avg60=0.96 avg300=1.37 total=24776055\n'), {
      some: { avg10: 1.1, avg60: 1.92, avg300: 2.69, totalUs: 35821987 },
      full: { avg10: 0.55, avg60: 0.96, avg300: 1.37, totalUs: 24776055 },
    });
  });

  it('reads a v2 cgroup: CPU time and throttling, memory.current and memory.stat, PSI', () => {
    const s = readCgroupStats('cgroup-v2', { v2Root: FIXTURES, v1: new Map() });
    assert.deepEqual(s.cpu, { usageSec: 1982.920343, userSec: 1179.34895, systemSec: 803.571393, nrPeriods: 2451, nrThrottled: 37, throttledSec: 4.312877, source: 'v2' });
    assert.equal(s.memory?.usageBytes, 218234880);
    assert.equal(s.memory?.source, 'v2');
    assert.equal(s.memory?.stat.get('anon'), 94396416);
    assert.equal(s.memory?.stat.get('file'), 114688000);
    assert.equal(s.memory?.stat.get('pgmajfault'), 412);
    assert.equal(workingSet(s.memory!), 218234880 - 73580544);
    assert.equal(s.pressure.cpu?.some?.totalUs, 447711434);
    assert.equal(s.pressure.cpu?.full?.totalUs, 0);
    assert.equal(s.pressure.io?.full?.totalUs, 24776055);
    assert.equal(s.pressure.memory?.some?.totalUs, 1873);
  });

  it('falls back to v1 controllers for what the v2 tree lacks (hybrid host)', () => {
    const v1 = new Map([['memory', FIXTURES], ['cpu', FIXTURES], ['cpuacct', FIXTURES]]);
    const s = readCgroupStats('cgroup-v1', { v2Root: '/nonexistent', v1 });
    assert.equal(s.cpu?.source, 'v1');
    assert.equal(s.cpu?.usageSec, 2037699515589 / 1e9);
    assert.equal(s.cpu?.nrThrottled, 0);
    assert.equal(s.memory?.source, 'v1');
    assert.equal(s.memory?.usageBytes, 3997696);
    assert.equal(s.memory?.stat.get('anon'), 2277376);   // v1 rss
    assert.equal(s.memory?.stat.get('file'), 479232);    // v1 cache
    assert.equal(s.memory?.stat.get('pgfault'), 169657 + (s.memory!.stat.get('pgfault')! - 169657));
    assert.deepEqual(s.pressure, {});
  });

  it('v2 CPU time with v1 throttling: v1 paths may differ from the v2 path', () => {
    const v1 = new Map([['cpu', FIXTURES]]);
    const s = readCgroupStats('cgroup-v2-nothrottle', { v2Root: '/nonexistent', v1 }, new Map([['cpu', 'cgroup-v1']]));
    assert.equal(s.cpu?.nrThrottled, 0);
    assert.equal(s.cpu?.throttledSec, 0);
  });
});

describe('pipeline: cgroup id → path', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'kotel-cg-'));
    mkdirSync(join(root, 'kubepods/burstable/podx'), { recursive: true });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('resolves registered paths without a walk and unknown ids with one bounded walk per interval', () => {
    const paths = new CgroupPaths({ root, rescanMs: 60_000 });
    const id = paths.register('/kubepods');
    assert.equal(paths.path(id!), '/kubepods');
    assert.equal(paths.scans, 0);
    const deep = cgroupIdOf('/kubepods/burstable/podx', root);
    assert.equal(paths.path(deep), '/kubepods/burstable/podx');
    assert.equal(paths.scans, 1);
    assert.equal(paths.path(123456789n), undefined);
    assert.equal(paths.scans, 1, 'no second walk within the interval');
  });
});
