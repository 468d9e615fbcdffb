// Trace sampling on the real kernel: spans left out by the sampler are never exported, while the
// request-duration histograms still count every request; the standard variables and the config key.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, latestPoints, latestSum } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { httpConfig, startNodeServer, type NodeServer } from './http-fixtures/helpers.ts';

const REQUESTS = 20;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function curl(url: string, ...headers: string[]): void {
  execFileSync('curl', ['-s', '-o', '/dev/null', ...headers.flatMap((h) => ['-H', h]), url]);
}

function durationCount(rx: OtlpReceiver, pid: number): number {
  let n = 0;
  for (const p of latestPoints(rx.metrics(), 'http.server.request.duration', undefined, { resource: { 'process.pid': pid } }).values()) {
    n += Number((p.point as { count?: number }).count ?? 0);
  }
  return n;
}

describe('e2e: http receiver trace sampling', function () {
  this.timeout(120_000);
  let rx: OtlpReceiver;
  let server: NodeServer;
  let agent: AgentProcess | undefined;

  before(async () => {
    rx = await OtlpReceiver.start({ httpPort: null });
    server = await startNodeServer();
  });

  afterEach(async () => {
    const code = await agent?.stop();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
    agent = undefined;
  });

  after(async () => {
    await server?.stop();
    await rx?.stop();
  });

  const serverSpans = () => rx.spans().filter((s) => s.resource['process.pid'] === server.pid && s.kind === 2);

  it('service.traces parentbased_traceidratio with ratio 0: only a sampled remote parent\'s request is exported; metrics count all', async () => {
    agent = await startAgent(`${httpConfig(rx.grpcEndpoint)}  traces: { sampler: parentbased_traceidratio, sampler_arg: 0 }\n`);
    const spansBefore = serverSpans().length;
    const countBefore = durationCount(rx, server.pid);
    const base = `http://127.0.0.1:${server.port}`;
    for (let i = 0; i < REQUESTS; i++) curl(`${base}/users/${i}`);
    curl(`${base}/not-sampled`, `traceparent: 00-${TRACE}-00f067aa0ba902b7-00`);
    // Spans leave in order: once this one is in, any span of the requests above would be too.
    curl(`${base}/marker`, `traceparent: 00-${TRACE}-00f067aa0ba902b7-01`);
    await rx.waitFor(() => serverSpans().some((s) => s.name === 'GET /marker'), { timeoutMs: 15_000, what: 'the sampled marker span' });
    await rx.waitFor(() => durationCount(rx, server.pid) - countBefore === REQUESTS + 2, { timeoutMs: 15_000, what: `${REQUESTS + 2} requests in the histogram` });
    const spans = serverSpans().slice(spansBefore);
    assert.deepEqual(spans.map((s) => s.name), ['GET /marker']);
    assert.equal(spans[0].traceId, TRACE);
    await rx.waitFor(() => (latestSum(rx.metrics(), 'kotel.receiver.spans.sampled_out', { 'kotel.receiver': 'http' }) ?? 0) >= REQUESTS + 1,
      { timeoutMs: 15_000, what: 'sampled-out spans counted' });
  });

  it('OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=1: every request is exported', async () => {
    agent = await startAgent(httpConfig(rx.grpcEndpoint), { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' });
    const spansBefore = serverSpans().length;
    const base = `http://127.0.0.1:${server.port}`;
    for (let i = 0; i < REQUESTS; i++) curl(`${base}/orders/${i}`, ...(i === 0 ? [`traceparent: 00-${TRACE}-00f067aa0ba902b7-00`] : []));
    await rx.waitFor(() => serverSpans().length - spansBefore >= REQUESTS, { timeoutMs: 15_000, what: `${REQUESTS} server spans` });
    const spans = serverSpans().slice(spansBefore);
    assert.equal(spans.length, REQUESTS);
    assert.ok(spans.every((s) => s.name === 'GET /orders/{id}'));
    assert.equal(spans[0].traceId, TRACE, 'not parent-based: a not-sampled parent does not matter');
  });
});
