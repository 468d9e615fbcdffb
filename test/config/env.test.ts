import assert from 'node:assert/strict';
import { parseKeyValueList } from '../../src/config/index.ts';
import { cleanupConfigs, load, loadError, minimal } from './helpers.ts';

describe('config/env (OTEL_* variables)', () => {
  after(cleanupConfigs);

  it('parses k=v lists, URL-decoded', () => {
    assert.deepEqual(parseKeyValueList('a=1, b = two%20words ,c=x%3Dy,,'), { a: '1', b: 'two words', c: 'x=y' });
    assert.throws(() => parseKeyValueList('novalue'), /not a key=value pair/);
    assert.throws(() => parseKeyValueList('a=%zz'), /percent-encoding/);
  });

  describe('OTLP/gRPC exporter', () => {
    it('takes the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, per-signal variables winning', () => {
      const otlp = load(minimal('otlp: {}'), {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://generic:4317',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4317',
      }).exporters.otlp;
      // gRPC has no per-signal paths: nothing is appended.
      assert.deepEqual(otlp.endpoints, { logs: 'https://generic:4317', metrics: 'https://generic:4317', traces: 'http://traces:4317' });
    });

    it('lets an explicit YAML value win over every OTEL_* variable', () => {
      const otlp = load(
        minimal('otlp: { endpoint: "http://yaml:4317", headers: { a: yaml }, compression: none, timeout: 3s, tls: { insecure: true, ca_file: /yaml/ca.pem } }'),
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://env:4317',
          OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://env-logs:4317',
          OTEL_EXPORTER_OTLP_HEADERS: 'a=env,b=env',
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
          OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
          OTEL_EXPORTER_OTLP_INSECURE: 'false',
          OTEL_EXPORTER_OTLP_CERTIFICATE: '/env/ca.pem',
          OTEL_EXPORTER_OTLP_CLIENT_KEY: '/env/key.pem',
        },
      ).exporters.otlp;
      assert.equal(otlp.endpoints.logs, 'http://yaml:4317');
      assert.deepEqual(otlp.headers, { a: 'yaml', b: 'env' }); // merged per key, the file's keys win
      assert.equal(otlp.compression, 'none');
      assert.equal(otlp.timeoutMs, 3000);
      assert.equal(otlp.insecure, true);
      assert.equal(otlp.caFile, '/yaml/ca.pem');
      assert.equal(otlp.keyFile, '/env/key.pem');
    });

    it('fills what the YAML leaves out from OTEL_*', () => {
      const otlp = load(minimal('otlp: {}'), {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://env:4317',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
        OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/env/ca.pem',
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/env/cert.pem',
      }).exporters.otlp;
      assert.equal(otlp.compression, 'none');
      assert.equal(otlp.timeoutMs, 7000);
      assert.equal(otlp.insecure, false);
      assert.equal(otlp.caFile, '/env/ca.pem');
      assert.equal(otlp.certFile, '/env/cert.pem');
    });

    it('uses OTEL_EXPORTER_OTLP_INSECURE for an endpoint without a scheme', () => {
      const otlp = load(minimal('otlp: { endpoint: "collector:4317" }'), { OTEL_EXPORTER_OTLP_INSECURE: 'true' }).exporters.otlp;
      assert.equal(otlp.endpoints.metrics, 'http://collector:4317');
      assert.equal(otlp.insecure, true);
    });

    it('merges generic, per-signal and YAML headers per signal', () => {
      const otlp = load(minimal('otlp: { headers: { x-team: yaml } }'), {
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc,x-team=env',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer%20metrics,x-metrics=1',
      }).exporters.otlp;
      assert.deepEqual(otlp.headers, { authorization: 'Bearer abc', 'x-team': 'yaml' });
      assert.deepEqual(otlp.signalHeaders.logs, { authorization: 'Bearer abc', 'x-team': 'yaml' });
      assert.deepEqual(otlp.signalHeaders.metrics, { authorization: 'Bearer metrics', 'x-team': 'yaml', 'x-metrics': '1' });
    });

    it('warns when OTEL_EXPORTER_OTLP_PROTOCOL disagrees with the exporter type the file chose', () => {
      const config = load(minimal('otlp: {}'), { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' });
      assert.equal(config.exporters.otlp.protocol, 'grpc');
      assert.match(config.warnings.join('\n'), /exporter "otlp" is OTLP\/gRPC .*"http\/protobuf" does not apply/);
    });
  });

  describe('OTLP/HTTP exporter', () => {
    it('appends /v1/<signal> to the generic endpoint and uses per-signal ones as-is', () => {
      const http = load(minimal('otlphttp: {}'), {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9090/api/otlp',
      }).exporters.otlphttp;
      assert.deepEqual(http.endpoints, {
        logs: 'http://collector:4318/v1/logs',
        metrics: 'http://metrics:9090/api/otlp',
        traces: 'http://collector:4318/v1/traces',
      });
    });

    it('prefers the YAML base endpoint to any variable, and YAML per-signal endpoints to that', () => {
      const http = load(minimal('otlphttp: { endpoint: "http://yaml:4318", logs_endpoint: "http://yaml-logs/x" }'), {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://env-metrics:4318/v1/metrics',
      }).exporters.otlphttp;
      assert.deepEqual(http.endpoints, { logs: 'http://yaml-logs/x', metrics: 'http://yaml:4318/v1/metrics', traces: 'http://yaml:4318/v1/traces' });
    });

    it('defaults to localhost:4318', () => {
      assert.equal(load(minimal('otlphttp: {}')).exporters.otlphttp.endpoints.traces, 'http://localhost:4318/v1/traces');
    });
  });

  describe('invalid variables', () => {
    it('rejects http/json and other protocols, naming the variable', () => {
      const err = loadError(minimal('otlp: {}'), { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'udp' });
      assert.deepEqual(err.issues.map((i) => [i.envVar, i.message]), [
        ['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', '"udp" is not a valid protocol; use "grpc" or "http/protobuf"'],
        ['OTEL_EXPORTER_OTLP_PROTOCOL', '"http/json" is not supported by kotel; use "grpc" or "http/protobuf"'],
      ]);
      assert.match(err.message, /environment variable OTEL_EXPORTER_OTLP_PROTOCOL: "http\/json" is not supported by kotel/);
    });

    it('rejects malformed OTLP variables, together with the file\'s errors', () => {
      const err = loadError(minimal('otlp: { compression: zip }'), {
        OTEL_EXPORTER_OTLP_HEADERS: 'broken',
        OTEL_EXPORTER_OTLP_TIMEOUT: '10s',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317',
        OTEL_EXPORTER_OTLP_INSECURE: 'maybe',
      });
      assert.deepEqual(err.issues.map((i) => i.envVar ?? i.path), [
        'exporters.otlp.compression',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_EXPORTER_OTLP_HEADERS',
        'OTEL_EXPORTER_OTLP_TIMEOUT',
        'OTEL_EXPORTER_OTLP_INSECURE',
      ]);
    });

    it('ignores OTLP variables when no OTLP exporter is configured', () => {
      assert.doesNotThrow(() => load(minimal(), { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }));
    });

    it('rejects a malformed OTEL_RESOURCE_ATTRIBUTES or OTEL_METRIC_EXPORT_INTERVAL', () => {
      const err = loadError(minimal(), { OTEL_RESOURCE_ATTRIBUTES: 'a=%E0%A4%A', OTEL_METRIC_EXPORT_INTERVAL: '-5' });
      assert.deepEqual(err.issues.map((i) => i.envVar), ['OTEL_RESOURCE_ATTRIBUTES', 'OTEL_METRIC_EXPORT_INTERVAL']);
    });
  });

  describe("kotel's own telemetry", () => {
    it('names itself kotel unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise', () => {
      assert.deepEqual(load(minimal()).selfResource, { 'service.name': 'kotel' });
      assert.deepEqual(load(minimal(), { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,host.name=n%C3%BC' }).selfResource, {
        'service.name': 'from-attrs',
        'host.name': 'nü',
      });
      assert.deepEqual(load(minimal(), { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'agent' }).selfResource, {
        'service.name': 'agent',
      });
    });

    it('lets service.telemetry.resource in the file win', () => {
      const text = `${minimal()}  telemetry:\n    resource: { service.name: yaml, k8s.node.name: "\${NODE}" }\n`;
      assert.deepEqual(load(text, { OTEL_SERVICE_NAME: 'agent', NODE: 'n1' }).selfResource, { 'service.name': 'yaml', 'k8s.node.name': 'n1' });
    });

    it('takes the metrics interval from the file, else OTEL_METRIC_EXPORT_INTERVAL, else 60s', () => {
      const text = `${minimal()}  telemetry:\n    metrics: { interval: 10s }\n`;
      assert.equal(load(text, { OTEL_METRIC_EXPORT_INTERVAL: '5000' }).telemetry.metricsIntervalMs, 10_000);
      assert.equal(load(minimal(), { OTEL_METRIC_EXPORT_INTERVAL: '5000' }).telemetry.metricsIntervalMs, 5000);
      assert.equal(load(minimal(), { OTEL_METRIC_EXPORT_INTERVAL: '' }).telemetry.metricsIntervalMs, 60_000);
    });
  });
});
