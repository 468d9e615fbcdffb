// Kernel spans through the other export path: the OTLP/HTTP protobuf exporter (kotel's serializer
// under the official HTTP transport) with a resource processor on the traces pipeline.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { OtlpReceiver } from '../support/otlp-receiver.ts';
import { startAgent } from './helpers/agent.ts';
import { startNodeServer } from './http-fixtures/helpers.ts';

describe('e2e: http spans over OTLP/HTTP protobuf with a resource processor', function () {
  this.timeout(60_000);

  it('every request arrives as a server span with the processed resource and the same attributes', async () => {
    const rx = await OtlpReceiver.start({ grpcPort: null });
    const agent = await startAgent(`receivers:
  http: {}
exporters:
  otlphttp:
    endpoint: ${rx.httpEndpoint}
processors:
  batch: { timeout: 100ms }
  resource:
    attributes:
      - { key: deployment.environment.name, value: e2e, action: upsert }
service:
  pipelines:
    traces: { receivers: [http], processors: [resource, batch], exporters: [otlphttp] }
`);
    const server = await startNodeServer();
    try {
      const base = `http://127.0.0.1:${server.port}`;
      execFileSync('curl', ['-s', '-o', '/dev/null', `${base}/users/1`, `${base}/users/2`, `${base}/fail`]);
      const spans = () => rx.spans().filter((s) => s.resource['process.pid'] === server.pid && s.kind === 2);
      await rx.waitFor(() => spans().length >= 3, { timeoutMs: 15_000, what: '3 server spans over OTLP/HTTP' });
      const got = spans();
      assert.equal(got.length, 3);
      assert.deepEqual(got.map((s) => s.name), ['GET /users/{id}', 'GET /users/{id}', 'GET /fail']);
      for (const s of got) {
        assert.equal(s.resource['deployment.environment.name'], 'e2e', 'resource processor applied');
        assert.equal(s.resource['process.pid'], server.pid, 'the workload resource kept');
        assert.equal(s.attributes['server.port'], server.port);
        assert.equal(s.attributes['network.peer.address'], '127.0.0.1');
        assert.equal(s.attributes['client.address'], '127.0.0.1');
        assert.match(s.traceId, /^[0-9a-f]{32}$/);
        assert.ok(s.endTimeUnixNano > s.startTimeUnixNano && Math.abs(Number(s.startTimeUnixNano / 1_000_000n) - Date.now()) < 60_000, 'wall-clock times');
      }
      assert.deepEqual(got.map((s) => s.status.code), [0, 0, 2]);
      assert.ok(rx.requests.traces.http >= 1 && rx.requests.traces.grpc === 0, 'exported over OTLP/HTTP');
    } finally {
      await server.stop();
      const code = await agent.stop();
      await rx.stop();
      assert.equal(code, 0, agent.stderr());
    }
  });
});
