// End to end on the real kernel: real failing syscalls → the agent → OTLP/gRPC → a receiver.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver, latestSum, type LogRecord } from '../support/otlp-receiver.ts';
import { startAgent, otlpConfig, type AgentProcess } from './helpers/agent.ts';
import { runFailures, failBinary, type Workload } from './helpers/workload.ts';

const NOBODY = 65534;

function recordsOf(rx: OtlpReceiver, pid: number, syscallNames: string[], errno: string): LogRecord[] {
  return rx.logs().filter((l) => l.resource['process.pid'] === pid && syscallNames.includes(String(l.attributes['linux.syscall.name'])) && l.attributes['error.type'] === errno);
}

const occurrences = (records: LogRecord[]) => records.reduce((n, r) => n + Number(r.attributes['linux.syscall.occurrences']), 0);

async function listen(port = 0): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function freePort(): Promise<number> {
  const s = await listen();
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function expectExact(rx: OtlpReceiver, w: Workload, names: string[], errno: string, what: string): Promise<LogRecord[]> {
  await rx.waitFor(() => occurrences(recordsOf(rx, w.pid, names, errno)) >= w.failures, { timeoutMs: 15_000, what: `${what}: ${w.failures} ${errno} occurrences` });
  await rx.waitFor(() => latestSum(rx.metrics(), 'linux.syscall.errors', { 'error.type': errno }, { resource: { 'process.pid': w.pid } }) === w.failures,
    { timeoutMs: 15_000, what: `${what}: linux.syscall.errors = ${w.failures}` });
  const records = recordsOf(rx, w.pid, names, errno);
  assert.equal(occurrences(records), w.failures, `${what}: occurrences`);
  return records;
}

describe('e2e: failed syscalls become log records and exact counters', function () {
  this.timeout(120_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let dir: string;

  before(async () => {
    failBinary();
    dir = mkdtempSync(join(tmpdir(), 'kotel-e2e-'));
    chmodSync(dir, 0o755);
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(otlpConfig(rx.grpcEndpoint).replace('interval: 1s', 'interval: 1s, bpf_run_time: true'));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    try { execFileSync('umount', [join(dir, 'small')], { stdio: 'ignore' }); } catch { /* not mounted */ }
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('prints a ready line naming the attached hook', () => {
    assert.match(agent.stderr(), /ready: receivers syscalls\((tp_btf|raw_tp|tracepoint)\/sys_exit\)/);
  });

  it('EACCES as an unprivileged user: WARN, file category, the path', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'x');
    chmodSync(secret, 0o600);
    const w = await runFailures('eacces', 5, secret, { uid: NOBODY, gid: NOBODY });
    assert.equal(w.failures, 5);
    const records = await expectExact(rx, w, ['openat', 'open'], 'EACCES', 'eacces');
    await w.release();
    const r = records[0];
    assert.equal(r.severityText, 'WARN');
    assert.equal(r.severityNumber, 13);
    assert.equal(r.attributes['linux.syscall.category'], 'file');
    assert.equal(r.attributes['file.path'], secret);
    assert.equal(r.attributes['thread.id'], w.pid);
    assert.equal(r.body, `openat(${JSON.stringify(secret)}) failed: EACCES (Permission denied)`);
    assert.equal(r.resource['process.executable.name'], 'fail');
    assert.equal(r.resource['process.owner'], 'nobody');
    assert.match(String(r.resource['process.command_line']), /fail eacces 5/);
    assert.ok(r.resource['host.name']);
    assert.equal(r.scope.name, 'kotel/receiver/syscalls');
    const ageMs = Date.now() - Number(r.timeUnixNano / 1_000_000n);
    assert.ok(ageMs >= 0 && ageMs < 60_000, `timestamp is wall-clock now-ish (${ageMs} ms old)`);
  });

  it('EMFILE under a low fd limit: ERROR', async () => {
    const w = await runFailures('emfile', 6, '/etc/hostname');
    const records = await expectExact(rx, w, ['openat', 'open'], 'EMFILE', 'emfile');
    await w.release();
    assert.equal(records[0].severityText, 'ERROR');
    assert.equal(records[0].attributes['file.path'], '/etc/hostname');
  });

  it('ENOSPC on a full tmpfs: ERROR with the fd', async () => {
    const small = join(dir, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'kotel-e2e', small]);
    const w = await runFailures('enospc', 4, join(small, 'fill'));
    const records = await expectExact(rx, w, ['write'], 'ENOSPC', 'enospc');
    await w.release();
    assert.equal(records[0].severityText, 'ERROR');
    assert.equal(records[0].attributes['linux.syscall.category'], 'file');
    assert.equal(typeof records[0].attributes['linux.syscall.fd'], 'number');
  });

  it('ECONNREFUSED on a closed port: WARN, network, server.address and server.port', async () => {
    const port = await freePort();
    const w = await runFailures('econnrefused', 7, String(port));
    const records = await expectExact(rx, w, ['connect'], 'ECONNREFUSED', 'econnrefused');
    await w.release();
    assert.equal(records[0].severityText, 'WARN');
    assert.equal(records[0].attributes['linux.syscall.category'], 'network');
    assert.equal(records[0].attributes['server.address'], '127.0.0.1');
    assert.equal(records[0].attributes['server.port'], port);
    assert.equal(records[0].body, `connect(127.0.0.1:${port}) failed: ECONNREFUSED (Connection refused)`);
  });

  it('EADDRINUSE on a bound port: WARN with network.local.port', async () => {
    const server = await listen();
    const port = (server.address() as { port: number }).port;
    const w = await runFailures('eaddrinuse', 3, String(port));
    const records = await expectExact(rx, w, ['bind'], 'EADDRINUSE', 'eaddrinuse');
    await w.release();
    server.close();
    assert.equal(records[0].attributes['network.local.port'], port);
    assert.equal(records[0].attributes['network.local.address'], '127.0.0.1');
  });

  it('ENOMEM from mmap under an address-space limit: ERROR, memory, the size', async () => {
    const w = await runFailures('enomem', 4);
    const records = await expectExact(rx, w, ['mmap'], 'ENOMEM', 'enomem');
    await w.release();
    assert.equal(records[0].severityText, 'ERROR');
    assert.equal(records[0].attributes['linux.syscall.category'], 'memory');
    assert.equal(records[0].attributes['linux.syscall.size'], 2 ** 30);
  });

  it('a storm is rate limited yet counted exactly: occurrences and the counter both equal the failures', async () => {
    const secret = join(dir, 'storm-secret');
    writeFileSync(secret, 'x');
    chmodSync(secret, 0o600);
    const w = await runFailures('eacces', 200_000, secret, { uid: NOBODY, gid: NOBODY });
    assert.equal(w.failures, 200_000);
    const records = await expectExact(rx, w, ['openat', 'open'], 'EACCES', 'storm');
    await w.release();
    assert.ok(records.length < 200, `rate limiting folded repeats (${records.length} records)`);
    assert.ok(records.some((r) => Number(r.attributes['linux.syscall.occurrences']) > 1));
  });

  it('exports its own metrics with its own resource', async () => {
    await rx.waitFor(() => (latestSum(rx.metrics(), 'kotel.receiver.records', { 'kotel.receiver': 'syscalls' }, { resource: { 'service.name': 'kotel' } }) ?? 0) > 0,
      { timeoutMs: 10_000, what: 'kotel.receiver.records' });
    const drops = latestSum(rx.metrics(), 'kotel.receiver.dropped', { 'kotel.receiver': 'syscalls', 'kotel.reason': 'ringbuf_full' }, { resource: { 'service.name': 'kotel' } });
    assert.equal(drops, 0);
    await rx.waitFor(() => (latestSum(rx.metrics(), 'kotel.bpf.program.runs', { 'kotel.bpf.program': 'sys_exit_btf' }, { resource: { 'service.name': 'kotel' } }) ?? 0) > 0,
      { timeoutMs: 10_000, what: 'kotel.bpf.program.runs (bpf_run_time: true)' });
  });
});

describe('e2e: every hook variant works', function () {
  this.timeout(60_000);
  for (const hook of ['tp_btf', 'raw_tp', 'tracepoint']) {
    it(`${hook}: counts ECONNREFUSED exactly`, async () => {
      const rx = await OtlpReceiver.start({ httpPort: null });
      const agent = await startAgent(otlpConfig(rx.grpcEndpoint, `{ hook: ${hook} }`));
      try {
        assert.match(agent.stderr(), new RegExp(`syscalls\\(${hook}/sys_exit\\)`));
        const w = await runFailures('econnrefused', 9, String(await freePort()));
        await expectExact(rx, w, ['connect'], 'ECONNREFUSED', hook);
        await w.release();
      } finally {
        assert.equal(await agent.stop(), 0);
        await rx.stop();
      }
    });
  }
});
