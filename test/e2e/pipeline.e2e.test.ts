// End to end through the pipeline: a real OpenTelemetry Collector, an endpoint that is down,
// SIGTERM flushing, and the command line's behaviour on bad input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OtlpReceiver, latestSum, type LogRecord } from '../support/otlp-receiver.ts';
import { Otelcol, freePort } from '../support/otelcol.ts';
import { startAgent, otlpConfig } from './helpers/agent.ts';
import { runFailures, failBinary } from './helpers/workload.ts';

const execFileAsync = promisify(execFile);
// A command that should exit but does not must fail the test, not hang the suite.
const run = (file: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) =>
  execFileAsync(file, args, { timeout: 20_000, killSignal: 'SIGKILL', ...opts });
const KOTEL = new URL('../../bin/kotel.js', import.meta.url).pathname;
const NOBODY = 65534;

const occurrences = (logs: LogRecord[], pid: number, errno: string) => logs
  .filter((l) => l.resource['process.pid'] === pid && l.attributes['error.type'] === errno)
  .reduce((n, l) => n + Number(l.attributes['linux.syscall.occurrences']), 0);

function secretFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kotel-pipe-'));
  chmodSync(dir, 0o755);
  const path = join(dir, 'secret');
  writeFileSync(path, 'x');
  chmodSync(path, 0o600);
  return path;
}

describe('e2e: into a real OpenTelemetry Collector', function () {
  this.timeout(15 * 60_000);  // the first run builds the collector (cached afterwards)

  it('logs and metrics from one run arrive intact', async () => {
    const col = await Otelcol.start({});
    const agent = await startAgent(otlpConfig(col.grpcEndpoint));
    try {
      failBinary();
      const port = await freePort();
      const w = await runFailures('econnrefused', 12, String(port));
      await col.waitFor(() => occurrences(col.logs(), w.pid, 'ECONNREFUSED') === 12, { timeoutMs: 20_000, what: '12 ECONNREFUSED occurrences' });
      await col.waitFor(() => latestSum(col.metrics(), 'linux.syscall.errors', { 'error.type': 'ECONNREFUSED' }, { resource: { 'process.pid': w.pid } }) === 12,
        { timeoutMs: 20_000, what: 'linux.syscall.errors = 12' });
      await w.release();
      const log = col.logs().find((l) => l.resource['process.pid'] === w.pid)!;
      assert.equal(log.severityText, 'WARN');
      assert.equal(log.attributes['server.port'], port);
      assert.equal(log.attributes['linux.syscall.name'], 'connect');
      assert.equal(log.resource['process.executable.name'], 'fail');
      assert.equal(log.scope.name, 'kotel/receiver/syscalls');
      assert.ok(col.metrics().some((m) => m.name === 'kotel.receiver.records' && m.resource['service.name'] === 'kotel'));
    } finally {
      assert.equal(await agent.stop(), 0);
      await col.stop();
    }
  });
});

describe('e2e: delivery guarantees', function () {
  this.timeout(120_000);

  it('an unreachable endpoint is retried with a bounded queue: records arrive once it comes up', async () => {
    const port = await freePort();
    const agent = await startAgent(otlpConfig(`http://127.0.0.1:${port}`));
    let rx: OtlpReceiver | undefined;
    try {
      const w = await runFailures('econnrefused', 5, String(await freePort()));
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(agent.child.exitCode, null, 'agent still running with its endpoint down');
      rx = await OtlpReceiver.start({ grpcPort: port, httpPort: null });
      await rx.waitFor(() => occurrences(rx!.logs(), w.pid, 'ECONNREFUSED') === 5, { timeoutMs: 60_000, what: 'the 5 records after the endpoint came up' });
      await w.release();
      await rx.waitFor(() => (latestSum(rx!.metrics(), 'kotel.exporter.retries', { 'kotel.signal': 'logs' }, { resource: { 'service.name': 'kotel' } }) ?? 0) > 0,
        { timeoutMs: 20_000, what: 'kotel.exporter.retries > 0' });
    } finally {
      assert.equal(await agent.stop(), 0);
      await rx?.stop();
    }
  });

  it('SIGTERM drains the kernel, folds the rate-limited tail and flushes: nothing is lost', async () => {
    const rx = await OtlpReceiver.start({ httpPort: null });
    // A long metrics interval: only the shutdown flush can deliver the final counter.
    const agent = await startAgent(otlpConfig(rx.grpcEndpoint, '{ rate_limit: { records_per_second: 5 } }').replace('interval: 1s', 'interval: 60s'));
    const w = await runFailures('eacces', 50_000, secretFile(), { uid: NOBODY, gid: NOBODY });
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
    await w.release();
    assert.equal(occurrences(rx.logs(), w.pid, 'EACCES'), 50_000);
    assert.equal(latestSum(rx.metrics(), 'linux.syscall.errors', { 'error.type': 'EACCES' }, { resource: { 'process.pid': w.pid } }), 50_000);
    assert.match(agent.stderr(), /SIGTERM received, flushing/);
    await rx.stop();
  });
});

describe('e2e: a full export queue', function () {
  this.timeout(60_000);

  it('refused records are reported again by a fold: occurrences still sum to the kernel count', async () => {
    const rx = await OtlpReceiver.start({ httpPort: null });
    const config = otlpConfig(rx.grpcEndpoint, '{ rate_limit: { records_per_second: 100000 } }')
      .replace('tls: { insecure: true }', 'tls: { insecure: true }\n    sending_queue: { queue_size: 8 }');
    const agent = await startAgent(config);
    try {
      const w = await runFailures('eacces', 20_000, secretFile(), { uid: NOBODY, gid: NOBODY });
      await rx.waitFor(() => occurrences(rx.logs(), w.pid, 'EACCES') === 20_000, { timeoutMs: 20_000, what: '20000 occurrences despite queue_full' });
      await w.release();
      await rx.waitFor(() => (latestSum(rx.metrics(), 'kotel.exporter.dropped', { 'kotel.signal': 'logs', 'kotel.reason': 'queue_full' }, { resource: { 'service.name': 'kotel' } }) ?? 0) > 0,
        { timeoutMs: 10_000, what: 'queue_full drops counted' });
    } finally {
      assert.equal(await agent.stop(), 0);
      await rx.stop();
    }
  });
});

describe('e2e: command line', function () {
  this.timeout(60_000);

  it('refuses an invalid config naming the YAML path and the fix, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotel-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, otlpConfig('http://127.0.0.1:4317', '{ rate_limt: { records_per_second: 0 } }'));
    const err = await run(process.execPath, [KOTEL, 'run', '--config', file]).then(() => undefined, (e) => e as { code: number; stderr: string });
    assert.ok(err, 'kotel run must fail');
    assert.equal(err.code, 2);
    assert.match(err.stderr, /receivers\.syscalls\.rate_limt/);
    assert.match(err.stderr, /did you mean "rate_limit"/);
    assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
  });

  it('runs a config it has warnings about, and prints them first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotel-cfg-'));
    const file = join(dir, 'small-queue.yaml');
    writeFileSync(file, otlpConfig('http://127.0.0.1:4317').replace('tls: { insecure: true }', 'tls: { insecure: true }\n    sending_queue: { queue_size: 8 }'));
    const out = await run(process.execPath, [KOTEL, 'check', '--config', file]).then((r) => r, (e) => e as { stderr: string });
    assert.match(out.stderr, new RegExp(`^kotel warn: config ${file}: exporter "otlp" in pipeline "logs": sending_queue.queue_size 8 is smaller than the batch of \\d+ items.*raise queue_size or lower send_batch_size$`, 'm'));
  });

  it('refuses a heap headroom that is not a whole number of MiB, naming the variable', async () => {
    const err = await run(process.execPath, [KOTEL, 'run'], { env: { ...process.env, KOTEL_HEAP_HEADROOM_MB: '64MB' } })
      .then(() => undefined, (e) => e as { code: number; stderr: string });
    assert.ok(err, 'kotel run must fail');
    assert.equal(err.code, 2);
    assert.match(err.stderr, /environment variable KOTEL_HEAP_HEADROOM_MB: must be a whole number of MiB \(0: V8's own policy\), got "64MB"/);
    assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
  });

  it('without privileges, a BPF-only config exits 1 and names the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotel-cfg-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'syscalls-only.yaml');
    writeFileSync(file, otlpConfig('http://127.0.0.1:4317'));
    chmodSync(file, 0o644);
    const err = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, KOTEL, 'run', '--config', file])
      .then(() => undefined, (e) => e as { code: number; stderr: string });
    assert.ok(err, 'kotel run must fail without privileges');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /receiver syscalls could not attach/);
    assert.match(err.stderr, /run as root, or grant CAP_BPF, CAP_PERFMON/);
  });

  it('check reports each receiver and exits 0 when all can run', async () => {
    const { stdout } = await run(process.execPath, [KOTEL, 'check']);
    assert.match(stdout, /receiver syscalls: can run/);
    assert.match(stdout, /ok\s+hook tp_btf raw_syscalls\/sys_exit/);
    assert.match(stdout, /ok\s+privileges/);
  });

  it('check fails, naming the fix, for a receiver that cannot run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotel-cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, otlpConfig('http://127.0.0.1:4317'));
    const env = { ...process.env, KOTEL_BPF_DIR: join(dir, 'no-objects') };
    const err = await run(process.execPath, [KOTEL, 'check', '--config', file], { env }).then(() => undefined, (e) => e as { code: number; stdout: string });
    assert.ok(err, 'check must fail without the BPF objects');
    assert.equal(err.code, 1);
    assert.match(err.stdout, /FAIL BPF object: .*no-objects\/syscalls\.bpf\.o — fix: bash scripts\/setup\.sh/);
  });
});
