// End to end with Debian nginx: static files (sent with sendfile), nginx as a reverse proxy to a
// node upstream, and wrk load; span counts are checked against nginx's own access log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, latestPoints, type Span } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { httpConfig, startNginx, startNodeServer, type Nginx, type NodeServer } from './http-fixtures/helpers.ts';

const spansOf = (rx: OtlpReceiver, pid: number, kind: number) => rx.spans().filter((s: Span) => s.resource['process.pid'] === pid && s.kind === kind && !String(s.attributes['url.path']).startsWith('/__ready') && s.attributes['url.path'] !== '/count');

for (const hooks of ['sock', 'syscalls'] as const) describe(`e2e: http receiver with nginx (static, reverse proxy, wrk), hooks: ${hooks}`, function () {
  this.timeout(180_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let nginx: Nginx;
  let upstream: NodeServer;

  before(async () => {
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(httpConfig(rx.grpcEndpoint, `{ hooks: ${hooks} }`));
    upstream = await startNodeServer();
    nginx = await startNginx(upstream.port);
  });

  after(async () => {
    await nginx?.stop();
    await upstream?.stop();
    const code = await agent?.stop();
    await rx?.stop();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('static files sent with sendfile: 1 KB and 1 MB, keep-alive, 404; counts equal the access log', async () => {
    const base = `http://127.0.0.1:${nginx.port}`;
    execFileSync('curl', ['-s', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', `${base}/1k.txt`, `${base}/1m.bin`, `${base}/nope/123`, `${base}/1k.txt`]);
    const worker = nginx.workerPid();
    await rx.waitFor(() => spansOf(rx, worker, 2).length >= nginx.accessLog().length, { what: 'nginx server spans = access log lines' });
    const spans = spansOf(rx, worker, 2);
    assert.equal(spans.length, nginx.accessLog().length);
    assert.deepEqual(spans.map((s) => [s.name, s.attributes['http.response.status_code']]),
      [['GET /1k.txt', 200], ['GET /1m.bin', 200], ['GET /nope/{id}', 404], ['GET /1k.txt', 200]]);
    assert.equal(spans[0].resource['process.executable.name'], 'nginx');
    // The 1 MB body went out with sendfile: the span still ends after it.
    await rx.waitFor(() => {
      const p = [...latestPoints(rx.metrics(), 'http.server.response.body.size', { 'http.route': '/1m.bin' }, { resource: { 'process.pid': worker } }).values()][0];
      return p !== undefined && (p.point as { sum?: number }).sum === 1 << 20;
    }, { what: 'body size of /1m.bin' });
  });

  it('reverse proxy: nginx server span, nginx client span as its child, node upstream span', async () => {
    const worker = nginx.workerPid();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    execFileSync('curl', ['-s', '-o', '/dev/null', '-H', `traceparent: 00-${traceId}-b7ad6b7169203331-01`, `http://127.0.0.1:${nginx.port}/api/items/17`]);
    await rx.waitFor(() => spansOf(rx, worker, 3).length >= 1 && spansOf(rx, upstream.pid, 2).length >= 1, { what: 'proxy spans' });
    const server = spansOf(rx, worker, 2).find((s) => s.attributes['url.path'] === '/api/items/17')!;
    const client = spansOf(rx, worker, 3)[0];
    const up = spansOf(rx, upstream.pid, 2)[0];
    assert.equal(server.traceId, traceId);
    assert.equal(server.parentSpanId, 'b7ad6b7169203331');
    assert.equal(client.name, 'GET /items/{id}');
    assert.equal(client.traceId, traceId);
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(up.traceId, traceId);
    assert.equal(up.name, 'GET /items/{id}');
  });

  it('wrk against nginx: spans exported = requests in the access log', async () => {
    const worker = nginx.workerPid();
    const before = spansOf(rx, worker, 2).length;
    const logBefore = nginx.accessLog().length;
    execFileSync('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${nginx.port}/1k.txt`], { encoding: 'utf8' });
    await new Promise((r) => setTimeout(r, 300));
    const served = nginx.accessLog().length - logBefore;
    assert.ok(served > 1000, `served ${served}`);
    await rx.waitFor(() => spansOf(rx, worker, 2).length - before >= served, { timeoutMs: 30_000, what: `${served} spans` });
    assert.equal(spansOf(rx, worker, 2).length - before, served);
    const durations = spansOf(rx, worker, 2).slice(before).map((s) => Number(s.endTimeUnixNano - s.startTimeUnixNano));
    assert.ok(durations.every((d) => d > 0 && d < 1e9));
  });
});
