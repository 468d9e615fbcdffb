// End to end on the real kernel: real processes exec'ing and exiting inside docker- and
// kubepods-style cgroups created by the test in the v2 tree → the process receiver → OTLP/gRPC.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpReceiver, latestPoints, latestSum, type LogRecord } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { cgroup2Root } from '../../src/pipeline/cgroups.ts';

const DOCKER_ID = `e2e${process.pid}`.padEnd(64, 'a').replace(/[^0-9a-f]/g, 'e');
const POD_UID = `${String(process.pid).padStart(8, '0').slice(0, 8)}-e2e0-4000-8000-00000000c0de`.replace(/[^0-9a-f-]/g, 'e');
const K8S_CID = `${process.pid}`.padEnd(64, 'b');

function config(endpoint: string): string {
  return `receivers:
  process: { logs: { exec: true, abnormal_exit: true }, command_line: { redact: ['(--db=)\\\\S+'] } }
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
service:
  pipelines:
    metrics: { receivers: [process], exporters: [otlp] }
    logs: { receivers: [process], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

interface Run { pid: number; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

/** A shell that moves itself into `cgroup` (v2 path) and then execs `command` (same pid). */
function start(cgroup: string, command: string, env: Record<string, string> = {}): Run {
  const procs = join(cgroup2Root()!, cgroup, 'cgroup.procs');
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${procs} && exec ${command}`], { env: { PATH: process.env.PATH!, ...env }, stdio: 'ignore' });
  return { pid: child.pid!, done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))) };
}

async function runIn(cgroup: string, command: string, env: Record<string, string> = {}): Promise<{ pid: number; code: number | null }> {
  const r = start(cgroup, command, env);
  return { pid: r.pid, code: (await r.done).code };
}

describe('e2e: process receiver — exec/exit, identity from real cgroups, abnormal exits, lifetime', function () {
  this.timeout(60_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  const root = cgroup2Root();
  const dockerCg = `/system.slice/docker-${DOCKER_ID}.scope`;
  const podCg = `/kubepods/besteffort/pod${POD_UID}/${K8S_CID}`;
  const dirs = ['/system.slice', dockerCg, '/kubepods', '/kubepods/besteffort', `/kubepods/besteffort/pod${POD_UID}`, podCg];
  const created: string[] = [];

  const logsOf = (pid: number): LogRecord[] => rx.logs().filter((l) => l.resource['process.pid'] === pid);

  before(async function () {
    if (!root) this.skip();
    for (const d of dirs) try { mkdirSync(join(root, d)); created.push(d); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(config(rx.grpcEndpoint));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    await new Promise((r) => setTimeout(r, 100));
    for (const d of created.reverse()) try { rmdirSync(join(root!, d)); } catch { /* still busy */ }
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('prints a ready line naming the attached hook', () => {
    assert.match(agent.stderr(), /ready: receivers .*process\((tp_btf|raw_tp)\/sched_process_exec\+exit\)/);
  });

  it('exec inside a docker-style cgroup: log record with the process resource, container.id and service.name from OTEL_SERVICE_NAME', async () => {
    const run = await runIn(dockerCg, '/bin/sleep 0.2', { OTEL_SERVICE_NAME: 'e2e-sleeper' });
    assert.equal(run.code, 0);
    const isSleepExec = (l: LogRecord) => /^exec .*\/sleep$/.test(String(l.body));
    await rx.waitFor(() => logsOf(run.pid).some(isSleepExec), { timeoutMs: 10_000, what: `exec record of ${run.pid}` });
    assert.ok(logsOf(run.pid).some((l) => /^exec .*\/(sh|dash|bash)$/.test(String(l.body))), 'the shell exec before it');
    const exec = logsOf(run.pid).find(isSleepExec)!;
    assert.match(String(exec.body), /^exec \/(usr\/)?bin\/sleep$/);
    assert.equal(exec.attributes['process.executable.name'], 'sleep');
    assert.equal(exec.resource['container.id'], DOCKER_ID);
    assert.equal(exec.resource['container.runtime.name'], 'docker');
    assert.equal(exec.resource['service.name'], 'e2e-sleeper');
    assert.equal(exec.resource['process.command_line'], '/bin/sleep 0.2');
    assert.equal(exec.resource['process.parent_pid'], process.pid);
    assert.equal(logsOf(run.pid).filter((l) => l.attributes['process.exit.code'] !== undefined).length, 0, 'a normal exit is not logged');
  });

  it('a shell that execs its command at once: each exec record names the file the kernel ran, not what /proc shows by then', async () => {
    // The agent reads /proc after the shell has already become `true`; the shell's record must still say sh.
    const pids: number[] = [];
    for (let i = 0; i < 40; i++) {
      const c = spawn('/bin/sh', ['-c', 'exec /bin/true'], { stdio: 'ignore' });
      pids.push(c.pid!);
      await new Promise((r) => c.on('exit', r));
    }
    const execs = (pid: number) => logsOf(pid).map((l) => String(l.body)).filter((b) => b.startsWith('exec '));
    await rx.waitFor(() => pids.every((pid) => execs(pid).length >= 2), { timeoutMs: 10_000, what: 'two exec records per shell' });
    for (const pid of pids) {
      const bodies = execs(pid);
      assert.ok(bodies.some((b) => /\/(sh|dash|bash)$/.test(b)), `pid ${pid}: ${bodies.join(', ')}`);
      assert.ok(bodies.some((b) => /\/true$/.test(b)), `pid ${pid}: ${bodies.join(', ')}`);
    }
  });

  it('abnormal exits inside a kubepods cgroup: non-zero code and killed by signal, with k8s.pod.uid and QoS', async () => {
    const failing = await runIn(podCg, '/bin/sh -c "exit 3"');
    assert.equal(failing.code, 3);
    const sleeper = start(podCg, '/bin/sleep 30');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(sleeper.pid, 'SIGKILL');
    assert.equal((await sleeper.done).signal, 'SIGKILL');
    const pid = sleeper.pid;
    await rx.waitFor(() => logsOf(failing.pid).some((l) => l.attributes['process.exit.code'] === 3) && logsOf(pid).some((l) => l.attributes['linux.process.signal'] === 'SIGKILL'),
      { timeoutMs: 10_000, what: 'exit-code and signal records' });
    const exit3 = logsOf(failing.pid).find((l) => l.attributes['process.exit.code'] === 3)!;
    assert.equal(exit3.severityText, 'WARN');
    assert.equal(exit3.attributes['linux.process.exit.kind'], 'error');
    assert.equal(exit3.resource['k8s.pod.uid'], POD_UID);
    assert.equal(exit3.resource['container.id'], K8S_CID);
    assert.equal(exit3.resource['kotel.k8s.pod.qos_class'], 'BestEffort');
    const sig = logsOf(pid).find((l) => l.attributes['linux.process.signal'] === 'SIGKILL')!;
    assert.equal(sig.attributes['process.exit.code'], 137);
    assert.match(String(sig.body), /killed by SIGKILL/);
    assert.equal(sig.resource['process.executable.name'], 'sleep');
  });

  it('lifetime histogram and exec/exit counters per workload resource, exact counts', async () => {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await runIn(dockerCg, '/bin/true'));
    assert.ok(runs.every((r) => r.code === 0));
    const query = { resource: { 'container.id': DOCKER_ID } };
    const lifetimeCount = () => [...latestPoints(rx.metrics(), 'linux.process.lifetime', { 'process.executable.name': 'true' }, query).values()].reduce((n, p) => n + (p.point.count ?? 0), 0);
    await rx.waitFor(() => lifetimeCount() >= 5, { timeoutMs: 10_000, what: '5 lifetimes of true' });
    assert.equal(lifetimeCount(), 5);
    assert.equal(latestSum(rx.metrics(), 'linux.process.execs', { 'process.executable.name': 'true' }, query), 5);
    assert.equal(latestSum(rx.metrics(), 'linux.process.exits', { 'process.executable.name': 'true', 'linux.process.exit.kind': 'normal' }, query), 5);
    const [found] = [...latestPoints(rx.metrics(), 'linux.process.lifetime', { 'process.executable.name': 'true' }, query).values()];
    assert.equal(found.metric.resource['process.pid'], undefined, 'aggregates carry the workload resource, not one pid');
    assert.ok(found.point.max! < 5 && found.point.min! > 0, `lifetimes ${found.point.min}..${found.point.max}`);
  });
});

