// Self-test of the real OpenTelemetry Collector harness: the official JS gRPC exporters send the
// sample to a collector built with the OpenTelemetry Collector Builder, and what its file
// exporter wrote must read back intact, in the same shapes as OtlpReceiver's.
//
// The first run builds the collector (minutes; cached afterwards). Without Go this FAILS with
// the build script's message: the e2e suite needs the collector, so a skip would hide that.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILD_SCRIPT, Otelcol, otelcolBinary } from './otelcol.ts';
import { latestSum } from './otlp-receiver.ts';
import {
  checkSampleLogs,
  checkSampleMetrics,
  checkSampleSpans,
  logExporter,
  metricExporter,
  sampleResource,
  sendSampleLogs,
  sendSampleMetrics,
  sendSampleSpans,
  traceExporter,
} from './otlp-sample.ts';

describe('Otelcol (a real OpenTelemetry Collector)', function () {
  this.timeout(60_000);
  let col: Otelcol | undefined;
  afterEach(async () => {
    await col?.stop();
    col = undefined;
  });

  it('builds the collector with the OpenTelemetry Collector Builder (or finds it cached)', async function () {
    this.timeout(30 * 60_000); // a cold build downloads and compiles for minutes on 2 cores
    const bin = await otelcolBinary();
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /otelcol version 0\.162\.0/);
  });

  it('receives logs, metrics and spans from the official JS gRPC exporters and writes them intact', async () => {
    col = await Otelcol.start({});
    assert.match(col.grpcEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const target = { transport: 'grpc' as const, grpcEndpoint: col.grpcEndpoint };
    const resource = sampleResource(randomUUID());
    await sendSampleLogs(logExporter(target), resource);
    await sendSampleMetrics(metricExporter(target), resource);
    const ids = await sendSampleSpans(traceExporter(target), resource);
    const c = col;
    await c.waitFor(() => c.logs().length === 2 && c.spans().length === 2 && c.metrics().length === 5, {
      what: '2 log records, 2 spans and 5 metrics in the file exporter output',
    });
    const got = c.read();
    checkSampleLogs(got.logs, resource);
    checkSampleMetrics(got.metrics, resource);
    checkSampleSpans(got.spans, resource, ids);
    assert.equal(latestSum(got.metrics, 'selftest.requests', { route: '/a' }), 7);
  });

  it('accepts OTLP/HTTP too, and clear() drops what was read', async () => {
    col = await Otelcol.start({ batch: true });
    const target = { transport: 'http' as const, httpUrls: col.httpUrls };
    const first = sampleResource(randomUUID());
    await sendSampleLogs(logExporter(target), first);
    const c = col;
    await c.waitFor(() => c.logs().length === 2, { what: 'the first 2 log records' });
    c.clear();
    assert.equal(c.logs().length, 0);
    const second = sampleResource(randomUUID());
    await sendSampleMetrics(metricExporter(target), second);
    await c.waitFor(() => c.metrics().length === 5, { what: '5 metrics' });
    checkSampleMetrics(c.metrics(), second);
    assert.equal(c.logs().length, 0);
  });

  it('fails clearly when the collector cannot start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kotel-fake-otelcol-'));
    const fake = path.join(dir, 'otelcol');
    fs.writeFileSync(fake, '#!/bin/sh\necho "fake collector: bad config" >&2\nexit 3\n', { mode: 0o755 });
    try {
      await assert.rejects(Otelcol.start({ binary: fake }), /collector exited \(code 3\) before listening:\s+fake collector: bad config/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the build script says so when Go is missing', () => {
    const pathWithoutGo = (process.env.PATH ?? '')
      .split(':')
      .filter((d) => d && !fs.existsSync(path.join(d, 'go')))
      .join(':');
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kotel-cache-'));
    try {
      const r = spawnSync('bash', [BUILD_SCRIPT], {
        encoding: 'utf8',
        env: { ...process.env, PATH: pathWithoutGo, KOTEL_CACHE: cache },
      });
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /Go is not installed/);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
