// End to end: `histogram: exponential` exports http.server.request.duration as an OTLP
// exponential histogram whose count equals the exchanges served and whose buckets hold every
// observation between the exported min and max.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { latestPoints } from '../support/otlp-metrics.ts';
import { httpConfig, useHttpSuite } from './http-fixtures/helpers.ts';

describe('e2e: http duration as an exponential histogram', function () {
  this.timeout(120_000);
  const suite = useHttpSuite((endpoint) => httpConfig(endpoint, '{ histogram: exponential }'));

  it('count = requests served; buckets cover min..max at the exported scale', async () => {
    const { rx, server } = suite;
    const base = `http://127.0.0.1:${server.port}`;
    const before = await server.count();
    execFileSync('curl', ['-s', '-o', '/dev/null', ...Array.from({ length: 6 }, (_, i) => `${base}/items/${i}`), `${base}/slow`]);
    const served = (await server.count()) - before;
    assert.equal(served, 7);
    // Every exchange is observed, the test's own GET /count calls included: compare with the spans.
    const spans = () => rx.spans().filter((x) => x.resource['process.pid'] === server.pid && x.kind === 2);
    await rx.waitFor(() => spans().filter((x) => x.name !== 'GET /count').length === served, { timeoutMs: 15_000, what: `${served} spans` });
    const total = spans().length;
    const query = { resource: { 'process.pid': server.pid } };
    await rx.waitFor(() => [...latestPoints(rx.metrics(), 'http.server.request.duration', undefined, query).values()]
      .reduce((n, p) => n + (p.point.count ?? 0), 0) === total, { timeoutMs: 15_000, what: `${total} observations` });
    const points = [...latestPoints(rx.metrics(), 'http.server.request.duration', undefined, query).values()];
    assert.ok(points.length >= 1);
    for (const { metric, point } of points) {
      assert.equal(metric.type, 'exponentialHistogram');
      assert.equal(metric.unit, 's');
      const buckets = point.positive!;
      const inBuckets = buckets.bucketCounts.reduce((a, b) => a + b, 0) + (point.zeroCount ?? 0);
      assert.equal(inBuckets, point.count, 'every observation is in a bucket');
      const base2 = 2 ** (2 ** -point.scale!);
      const first = buckets.bucketCounts.findIndex((c) => c > 0);
      const last = buckets.bucketCounts.length - 1 - [...buckets.bucketCounts].reverse().findIndex((c) => c > 0);
      // bucket i holds (base^i, base^(i+1)]
      assert.ok(point.min! > base2 ** (buckets.offset + first) * (1 - 1e-9), `min ${point.min} in the first bucket`);
      assert.ok(point.max! <= base2 ** (buckets.offset + last + 1) * (1 + 1e-9), `max ${point.max} in the last bucket`);
    }
    const slow = points.reduce((m, p) => Math.max(m, p.point.max ?? 0), 0);
    assert.ok(slow >= 0.19 && slow < 5, `the /slow request (200 ms timer) is the max: ${slow}s`);
  });
});
