// End to end: a failed syscall raised by the thread serving an HTTP request carries that
// request's trace id and span id (the http receiver's per-thread context, read in the kernel by
// the syscalls receiver through one shared map); a failure outside any request carries none.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { LogRecord } from '../support/otlp-receiver.ts';
import { useHttpSuite } from './http-fixtures/helpers.ts';

function config(endpoint: string, hooks: string): string {
  return `receivers:
  http: { hooks: ${hooks} }
  syscalls:
    rate_limit: { records_per_second: 1000 }
    watch: [{ syscalls: [openat], errnos: [ENOENT], category: file }]
exporters:
  # a large queue: the agent traces every HTTP exchange on the host (other tests and benchmarks too)
  otlp: { endpoint: ${endpoint}, tls: { insecure: true }, sending_queue: { queue_size: 500000 } }
processors:
  batch: { timeout: 100ms }
service:
  pipelines:
    traces: { receivers: [http], processors: [batch], exporters: [otlp] }
    logs: { receivers: [syscalls], processors: [batch], exporters: [otlp] }
`;
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

// Both http capture paths keep the per-thread context the same way (the fallback hooks the same
// sys_exit as the syscalls receiver).
for (const hooks of ['sock', 'syscalls'] as const) describe(`e2e: failed syscalls inside an HTTP request join its trace, http hooks: ${hooks}`, function () {
  this.timeout(120_000);
  const suite = useHttpSuite((endpoint) => config(endpoint, hooks));

  const failureLog = (path: string) => (l: LogRecord) =>
    l.resource['process.pid'] === suite.server.pid && l.attributes['file.path'] === path;

  it('the log record names the server span and the incoming trace', async () => {
    const { rx, server } = suite;
    const base = `http://127.0.0.1:${server.port}`;
    execFileSync('curl', ['-s', '-o', '/dev/null', '-H', `traceparent: 00-${TRACE_ID}-${PARENT_ID}-01`, `${base}/open-missing/a`]);
    execFileSync('curl', ['-s', '-o', '/dev/null', `${base}/open-missing/b`]);
    await rx.waitFor(() => rx.logs().some(failureLog('/nonexistent-kotel/a')) && rx.logs().some(failureLog('/nonexistent-kotel/b')),
      { timeoutMs: 15_000, what: 'the two ENOENT log records' });
    await rx.waitFor(() => rx.spans().filter((s) => s.resource['process.pid'] === server.pid && s.kind === 2).length >= 2,
      { timeoutMs: 15_000, what: 'the two server spans' });
    const spans = rx.spans().filter((s) => s.resource['process.pid'] === server.pid && s.kind === 2);
    const withParent = spans.find((s) => s.attributes['url.path'] === '/open-missing/a')!;
    const plain = spans.find((s) => s.attributes['url.path'] === '/open-missing/b')!;
    assert.equal(withParent.traceId, TRACE_ID);
    assert.equal(withParent.parentSpanId, PARENT_ID);

    const a = rx.logs().filter(failureLog('/nonexistent-kotel/a'));
    const b = rx.logs().filter(failureLog('/nonexistent-kotel/b'));
    assert.equal(a.length, 1);
    assert.equal(b.length, 1);
    assert.equal(a[0].attributes['error.type'], 'ENOENT');
    assert.equal(a[0].traceId, TRACE_ID, 'the incoming trace');
    assert.equal(a[0].spanId, withParent.spanId, 'the server span, not the remote parent');
    assert.equal(b[0].traceId, plain.traceId);
    assert.equal(b[0].spanId, plain.spanId);
    assert.notEqual(b[0].spanId, a[0].spanId);
  });

  it('a failure outside any request carries no trace context', async () => {
    const { rx } = suite;
    execFileSync(process.execPath, ['-e', "try { require('fs').openSync('/nonexistent-kotel/outside') } catch {}"]);
    const outside = (l: LogRecord) => l.attributes['file.path'] === '/nonexistent-kotel/outside';
    await rx.waitFor(() => rx.logs().some(outside), { timeoutMs: 15_000, what: 'the ENOENT record' });
    const rec = rx.logs().find(outside)!;
    assert.equal(rec.traceId, '');
    assert.equal(rec.spanId, '');
  });

  it('a failure after the response is out carries no stale context', async () => {
    const { rx, server } = suite;
    execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${server.port}/open-after/c`]);
    await rx.waitFor(() => rx.logs().some(failureLog('/nonexistent-kotel/c')), { timeoutMs: 15_000, what: 'the ENOENT record' });
    const rec = rx.logs().find(failureLog('/nonexistent-kotel/c'))!;
    assert.equal(rec.traceId, '');
    assert.equal(rec.spanId, '');
  });
});
