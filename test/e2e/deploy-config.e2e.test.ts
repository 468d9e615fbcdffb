// End to end: the configuration the deployment files ship (deploy/otel-config.yaml), unchanged,
// exporting into a real OpenTelemetry Collector as the sidecar layout does: spans, metrics and
// logs arrive, and everything still queued is flushed on SIGTERM.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Otelcol } from '../support/otelcol.ts';
import { startAgent } from './helpers/agent.ts';
import { startNodeServer } from './http-fixtures/helpers.ts';

const CONFIG = readFileSync(new URL('../../deploy/otel-config.yaml', import.meta.url), 'utf8');

describe('e2e: deploy/otel-config.yaml into a real Collector', function () {
  this.timeout(600_000);   // a cold collector build takes minutes (cached afterwards)

  it('spans, metrics and logs reach the Collector; SIGTERM flushes them', async () => {
    const col = await Otelcol.start({});
    try {
      const agent = await startAgent(CONFIG, { KOTEL_OTLP_ENDPOINT: col.httpEndpoint });
      const server = await startNodeServer();
      try {
        execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${server.port}/a/1`, `http://127.0.0.1:${server.port}/a/2`]);
        // A failure the default watch list reports: a blocking connect to a closed port → ECONNREFUSED.
        execFileSync('bash', ['-c', 'echo > /dev/tcp/127.0.0.1/1 || true'], { stdio: 'ignore' });
      } finally {
        await server.stop();
      }
      assert.equal(await agent.stop(), 0, agent.stderr());
      await col.waitFor(() => col.read().spans.filter((s) => s.resource['process.pid'] === server.pid && s.kind === 2).length === 2,
        { timeoutMs: 15_000, what: 'the two server spans' });
      const got = col.read();
      const names = new Set(got.metrics.map((m) => m.name));
      for (const n of ['http.server.request.duration', 'kotel.exporter.sent']) assert.ok(names.has(n), `metric ${n} in ${[...names].join(', ')}`);
      assert.ok(got.logs.some((l) => l.attributes['error.type'] === 'ECONNREFUSED'), 'the failed connect as a log record');
    } finally {
      await col.stop();
    }
  });
});
