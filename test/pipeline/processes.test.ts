// The process table against real processes and real cgroups created in this host's v2 tree.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/pipeline/cgroups.ts';
import { ProcessCache, compileRedactPatterns } from '../../src/pipeline/processes.ts';

const CID = 'd0c4e2'.padEnd(64, '7');
const UID = '5a1d2c3b-0000-4abc-8def-0123456789ab';

function sh(env: Record<string, string>, ...args: string[]): ChildProcess {
  return spawn('/bin/sh', ['-c', 'sleep 30', 'sh', ...args], { env: { PATH: process.env.PATH!, ...env }, stdio: 'ignore' });
}

describe('pipeline: process table (real processes, real cgroups)', function () {
  this.timeout(20_000);
  const root = cgroup2Root()!;
  const dirs = [`/kubepods`, `/kubepods/burstable`, `/kubepods/burstable/pod${UID}`, `/kubepods/burstable/pod${UID}/${CID}`];
  const created: string[] = [];
  const children: ChildProcess[] = [];

  before(function () {
    if (!root) this.skip();
    for (const d of dirs) {
      try { mkdirSync(join(root, d)); created.push(d); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
    }
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    for (const d of created.reverse()) try { rmdirSync(join(root, d)); } catch { /* busy: left for the next run */ }
  });

  it('identity from /proc: executable, redacted command line, owner, parent, start time, service.name from OTEL_SERVICE_NAME', async () => {
    const child = sh({ OTEL_SERVICE_NAME: 'orders' }, '--password=hunter2', 'token=abc');
    children.push(child);
    await new Promise((r) => setTimeout(r, 100));
    const cache = new ProcessCache();
    const info = cache.info(child.pid!);
    assert.match(info.executablePath!, /^\/(usr\/)?bin\//);
    assert.match(info.executableName, /^(sh|dash|bash)$/);
    assert.equal(info.commandLine, '/bin/sh -c sleep 30 sh --password=REDACTED token=REDACTED');
    assert.equal(info.owner, 'root');
    assert.equal(info.parentPid, process.pid);
    assert.ok(Math.abs(info.startTimeMs! - Date.now()) < 5_000, `start time ${new Date(info.startTimeMs!).toISOString()}`);
    assert.equal(info.serviceName, 'orders');
    const attrs = cache.resource(child.pid!).attributes;
    assert.equal(attrs['service.name'], 'orders');
    assert.equal(attrs['process.pid'], child.pid);
    assert.equal(typeof attrs['process.creation.time'], 'string');
    assert.equal(cache.hits, 1);
    assert.equal(cache.misses, 1);
  });

  it('configurable redaction patterns', () => {
    const child = sh({}, '--db-url=postgres://u:pw@h/db');
    children.push(child);
    const cache = new ProcessCache({ redactPatterns: compileRedactPatterns(['(--db-url=)\\S+']) });
    return new Promise<void>((resolve) => setTimeout(() => {
      assert.match(cache.info(child.pid!).commandLine!, /--db-url=REDACTED$/);
      resolve();
    }, 100));
  });

  it('a process moved into a kubepods cgroup gets container.id, k8s.pod.uid, the QoS class, and service.name from the executable', async () => {
    const child = sh({});
    children.push(child);
    writeFileSync(join(root, dirs[3], 'cgroup.procs'), String(child.pid));
    const cache = new ProcessCache();
    const info = cache.info(child.pid!);
    assert.equal(info.cgroupPath, dirs[3]);
    assert.equal(info.containerId, CID);
    assert.equal(info.podUid, UID);
    assert.equal(info.qosClass, 'Burstable');
    assert.equal(info.serviceName, info.executableName);
    assert.ok(info.cgroupId! > 0n);
    assert.equal(cache.cgroups.path(info.cgroupId!), dirs[3]);
    const r = cache.resource(child.pid!).attributes;
    assert.equal(r['container.id'], CID);
    assert.equal(r['k8s.pod.uid'], UID);
    assert.equal(r['kotel.k8s.pod.qos_class'], 'Burstable');
    assert.equal(cache.workloadResource(child.pid!).attributes['process.pid'], undefined);
    child.kill('SIGKILL');
  });

  it('scan() reads existing processes once; exit keeps the entry for late records, then evicts it (bounded)', async () => {
    const child = sh({});
    children.push(child);
    await new Promise((r) => setTimeout(r, 50));
    const cache = new ProcessCache({ exitGraceMs: 0, maxEntries: 100000 });
    const n = cache.scan();
    assert.ok(n >= 3 && cache.size === n, `${n} processes`);
    assert.equal(cache.peek(child.pid!)?.executableName !== undefined, true);
    const misses = cache.misses;
    cache.info(child.pid!);
    assert.equal(cache.misses, misses, 'scanned processes are hits');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const gone = cache.onExit(child.pid!);
    assert.equal(gone.exited, true);
    assert.equal(cache.isAlive(child.pid!), false);
    assert.equal(cache.info(child.pid!).executableName, gone.executableName, 'late records still resolve');
    assert.equal(cache.sweepExited(Date.now() + 1), 1);
    assert.equal(cache.peek(child.pid!), undefined);
    const small = new ProcessCache({ maxEntries: 4 });
    small.scan();
    assert.equal(small.size, 4);
  });

  it('an exit matches its exec by the kernel\'s start time itself, not through /proc\'s clock', () => {
    const child = sh({});
    children.push(child);
    const cache = new ProcessCache();
    // A start time /proc's (converted through /proc/uptime) would not agree with: only the kernel's two records can.
    const startNs = 123_456_789n;
    const atExec = cache.onExec(child.pid!, { comm: 'sh', startNs });
    assert.equal(cache.onExit(child.pid!, 'sh', startNs), atExec, 'the same process: its identity is kept for the exit');
    const again = cache.onExec(child.pid!, { comm: 'sh', startNs });
    assert.notEqual(cache.onExit(child.pid!, 'sh', startNs + 1n), again, 'another start time: a reused pid, read afresh');
    child.kill('SIGKILL');
  });

  it('onExec falls back to the kernel facts when /proc is gone', () => {
    const cache = new ProcessCache();
    const info = cache.onExec(999_999_999, { ppid: 1, uid: 0, filename: '/usr/bin/curl', comm: 'curl' });
    assert.deepEqual([info.executableName, info.executablePath, info.parentPid, info.owner, info.serviceName], ['curl', '/usr/bin/curl', 1, 'root', 'curl']);
  });
});
