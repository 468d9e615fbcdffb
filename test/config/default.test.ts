import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, defaultConfig, loadConfig, renderDefaultConfigYaml } from '../../src/config/index.ts';
import { RECEIVERS, receiverTypes as registryTypes } from '../../src/receivers/registry.ts';
import { receiverTypes } from './helpers.ts';

const REPO_CONFIG = fileURLToPath(new URL('../../otel-config.yaml', import.meta.url));

describe('config/default (embedded configuration)', () => {
  const both = { availableReceivers: ['syscalls', 'http'], receiverTypes };

  it('exports to the console when no OTLP endpoint is set', () => {
    const config = defaultConfig({ ...both, env: {} });
    assert.equal(config.source, '<embedded default>');
    assert.deepEqual(Object.keys(config.exporters), ['console']);
    assert.deepEqual(
      config.pipelines.map((p) => [p.id, p.receivers, p.processors, p.exporters]),
      [
        ['logs', ['syscalls'], ['batch'], ['console']],
        ['metrics', ['syscalls', 'http'], ['batch'], ['console']],
        ['traces', ['http'], ['batch'], ['console']],
      ],
    );
    // Receivers get their schema defaults.
    assert.deepEqual(config.receivers.syscalls.settings, { rate_limit: { records_per_second: 10 }, watch: ['openat'], flush_interval: 5000 });
    assert.deepEqual(config.warnings, []);
  });

  it('wires a receiver only into pipelines of the signals it produces', () => {
    const config = defaultConfig({ availableReceivers: ['syscalls'], receiverTypes, env: {} });
    assert.deepEqual(config.pipelines.map((p) => p.id), ['logs', 'metrics']);
    assert.deepEqual(Object.keys(config.receivers), ['syscalls']);
  });

  it('exports over OTLP/gRPC when OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
    const config = defaultConfig({ ...both, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_HEADERS: 'k=v' } });
    assert.deepEqual(Object.keys(config.exporters), ['otlp']);
    assert.equal(config.exporters.otlp.protocol, 'grpc');
    assert.equal(config.exporters.otlp.endpoints.traces, 'http://collector:4317');
    assert.deepEqual(config.exporters.otlp.headers, { k: 'v' });
    assert.ok(config.pipelines.every((p) => p.exporters.join() === 'otlp'));
  });

  it('exports over OTLP/HTTP when OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf', () => {
    const config = defaultConfig({ ...both, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } });
    assert.deepEqual(Object.keys(config.exporters), ['otlphttp']);
    assert.equal(config.exporters.otlphttp.endpoints.logs, 'http://collector:4318/v1/logs');
  });

  it('decides per signal: per-signal endpoint and protocol, OTEL_<SIGNAL>_EXPORTER', () => {
    const config = defaultConfig({
      ...both,
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        OTEL_METRICS_EXPORTER: 'none',
      },
    });
    assert.deepEqual(config.pipelines.map((p) => [p.id, p.exporters]), [
      ['logs', ['console']],
      ['traces', ['otlphttp']],
    ]);
    assert.equal(config.exporters.otlphttp.endpoints.traces, 'http://tempo:4318/v1/traces');
    assert.deepEqual(
      defaultConfig({ ...both, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_LOGS_EXPORTER: 'otlp,console' } }).pipelines[0].exporters,
      ['otlp', 'console'],
    );
  });

  it('rejects http/json and an empty receiver list', () => {
    assert.throws(() => defaultConfig({ ...both, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } }),
      (e: unknown) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_PROTOCOL: "http\/json" is not supported/.test(e.message));
    assert.throws(() => defaultConfig({ availableReceivers: [], receiverTypes, env: {} }), /no receiver is available/);
    assert.throws(() => defaultConfig({ availableReceivers: ['nope'], receiverTypes, env: {} }), /missing from receiverTypes: nope/);
  });

  it('renders YAML that loads to the same configuration', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4317' };
    const text = renderDefaultConfigYaml({ ...both, env });
    const { source: _a, ...fromText } = loadConfig({ text, env, receiverTypes });
    const { source: _b, ...embedded } = defaultConfig({ ...both, env });
    assert.deepEqual(fromText, embedded);
  });

  describe('the repository\'s otel-config.yaml', () => {
    // The file is what kotel embeds: every registered receiver, wired into each pipeline it fits.
    const real = registryTypes();
    const expected = () => renderDefaultConfigYaml({ availableReceivers: RECEIVERS.map((r) => r.type), receiverTypes: real, env: {} });

    it('equals the rendered default for every registered receiver (KOTEL_UPDATE_CONFIG=1 rewrites it)', () => {
      if (process.env.KOTEL_UPDATE_CONFIG === '1') writeFileSync(REPO_CONFIG, expected());
      assert.equal(readFileSync(REPO_CONFIG, 'utf8'), expected(),
        'otel-config.yaml differs from renderDefaultConfigYaml(); rerun this test with KOTEL_UPDATE_CONFIG=1 to regenerate it');
    });

    it('loads cleanly, with a pipeline per signal', () => {
      const config = loadConfig({ path: REPO_CONFIG, env: {}, receiverTypes: real });
      assert.deepEqual(config.warnings, []);
      assert.deepEqual(config.pipelines.map((p) => p.id).sort(), ['logs', 'metrics', 'traces']);
      assert.deepEqual(Object.keys(config.receivers).sort(), RECEIVERS.map((r) => r.type).sort());
    });
  });
});
