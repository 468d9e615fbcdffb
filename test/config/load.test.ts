import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { cleanupConfigs, load, loadError, minimal, receiverTypes, writeConfig } from './helpers.ts';

/** The issue at `path`, failing with the whole message when there is none. */
function issueAt(err: ConfigError, path: string) {
  const found = err.issues.find((i) => i.path === path);
  assert.ok(found, `no issue at ${path} in:\n${err.message}`);
  return found;
}

describe('config/load', () => {
  after(cleanupConfigs);

  describe('a valid file', () => {
    const text = `receivers:
  syscalls:
    rate_limit: { records_per_second: 50 }
  syscalls/quiet: {}
  http:
processors:
  batch: { timeout: 2s, send_batch_size: 100, send_batch_max_size: 1000 }
  resource:
    attributes:
      - { key: deployment.environment.name, value: prod, action: upsert }
      - { key: host.id, action: delete }
  filter/drop:
    logs: { log_record: ['attributes["x"] == 1'] }
exporters:
  otlp:
    endpoint: collector:4317
    headers: { X-Api-Key: secret }
    tls: { insecure: true }
    compression: none
    timeout: 5s
    sending_queue: { queue_size: 100 }
    retry_on_failure: { enabled: false, max_elapsed_time: 1m }
  otlphttp/backup:
    endpoint: https://backup.example:4318/base/
    traces_endpoint: https://traces.example/custom
  debug: { verbosity: detailed }
  console/unused: {}
service:
  pipelines:
    logs: { receivers: [syscalls, syscalls/quiet], processors: [resource, batch, filter/drop], exporters: [otlp, debug] }
    metrics: { receivers: [syscalls, http], exporters: [otlphttp/backup] }
    traces/http: { receivers: [http], exporters: [otlp] }
  telemetry:
    metrics: { interval: 15s, bpf_run_time: true }
    logs: { level: DEBUG }
    resource: { service.namespace: infra }
`;

    it('normalizes every section', () => {
      const path = writeConfig(text);
      const config = loadConfig({ path, env: {}, receiverTypes });
      assert.equal(config.source, path);
      assert.deepEqual(config.receivers.syscalls, {
        id: 'syscalls',
        type: 'syscalls',
        settings: { rate_limit: { records_per_second: 50 }, watch: ['openat'], flush_interval: 5000 },
      });
      assert.equal(config.receivers['syscalls/quiet'].type, 'syscalls');
      assert.deepEqual(config.receivers.http.settings, {});
      assert.deepEqual(config.processors.batch.settings, { timeoutMs: 2000, sendBatchSize: 100, sendBatchMaxSize: 1000 });
      assert.deepEqual(config.processors.resource.settings, {
        attributes: [
          { key: 'deployment.environment.name', value: 'prod', action: 'upsert' },
          { key: 'host.id', action: 'delete' },
        ],
      });
      assert.deepEqual(config.processors['filter/drop'], { id: 'filter/drop', type: 'filter', settings: { logs: { log_record: ['attributes["x"] == 1'] } } });
      assert.deepEqual(config.pipelines.map((p) => [p.id, p.signal]), [['logs', 'logs'], ['metrics', 'metrics'], ['traces/http', 'traces']]);
      assert.deepEqual(config.pipelines[0].processors, ['resource', 'batch', 'filter/drop']);
      assert.deepEqual(config.telemetry, { metricsIntervalMs: 15_000, logLevel: 'debug', bpfRunTime: true });
      assert.deepEqual(config.selfResource, { 'service.name': 'kotel', 'service.namespace': 'infra' });
    });

    it('resolves exporters', () => {
      const config = load(text);
      assert.deepEqual(config.exporters.otlp, {
        id: 'otlp',
        type: 'otlp',
        protocol: 'grpc',
        endpoints: { logs: 'http://collector:4317', metrics: 'http://collector:4317', traces: 'http://collector:4317' },
        headers: { 'x-api-key': 'secret' },
        signalHeaders: { logs: { 'x-api-key': 'secret' }, metrics: { 'x-api-key': 'secret' }, traces: { 'x-api-key': 'secret' } },
        insecure: true,
        compression: 'none',
        timeoutMs: 5000,
        queueSize: 100,
        retry: { enabled: false, maxElapsedMs: 60_000 },
      });
      const http = config.exporters['otlphttp/backup'];
      assert.equal(http.protocol, 'http/protobuf');
      assert.deepEqual(http.endpoints, {
        logs: 'https://backup.example:4318/base/v1/logs',
        metrics: 'https://backup.example:4318/base/v1/metrics',
        traces: 'https://traces.example/custom',
      });
      assert.equal(http.insecure, false);
      assert.equal(http.compression, 'gzip');
      assert.equal(http.timeoutMs, 10_000);
      assert.deepEqual(http.retry, { enabled: true, maxElapsedMs: 300_000 });
      assert.equal(config.exporters.debug.type, 'console');
      assert.equal(config.exporters.debug.verbosity, 'detailed');
    });

    it('leaves out (with a warning) components no pipeline uses', () => {
      const config = load(text);
      assert.equal(config.exporters['console/unused'], undefined);
      assert.ok(config.warnings.includes('exporter "console/unused" is defined but no pipeline uses it; it will not be started'), config.warnings.join('\n'));
    });

    it('warns when a sending queue cannot hold the pipeline\'s batch, naming the exporter, the pipeline and the fix', () => {
      const config = load(text);   // otlp: queue_size 100; logs batch 100 items, traces/http the default 8192
      assert.deepEqual(config.warnings.filter((w) => w.includes('queue_size')), [
        'exporter "otlp" in pipeline "traces/http": sending_queue.queue_size 100 is smaller than the batch of 8192 items (the default): requests leave only at the batch timeout and items beyond the queue are dropped (counted); raise queue_size or lower send_batch_size',
      ]);
      const disabled = load(minimal('otlp: { sending_queue: { enabled: false } }'));
      assert.deepEqual(disabled.warnings, [], 'a disabled queue holds one batch by design');
    });

    it('gives a bare host:port TLS unless tls.insecure says otherwise', () => {
      const config = load(minimal('otlp: { endpoint: "collector:4317" }'));
      assert.equal(config.exporters.otlp.endpoints.logs, 'https://collector:4317');
      assert.equal(config.exporters.otlp.insecure, false);
      const defaults = load(minimal('otlp: {}'));
      assert.equal(defaults.exporters.otlp.endpoints.traces, 'http://localhost:4317');
      assert.equal(defaults.exporters.otlp.insecure, true);
      assert.equal(defaults.exporters.otlp.queueSize, 32_768);
    });

    it('uses the defaults of telemetry and batch', () => {
      const config = load(minimal().replace('receivers:', 'processors:\n  batch:\nreceivers:'));
      assert.deepEqual(config.telemetry, { metricsIntervalMs: 60_000, logLevel: 'info', bpfRunTime: false });
      assert.deepEqual(config.selfResource, { 'service.name': 'kotel' });
      assert.deepEqual(config.processors, {}); // defined but unused
      const used = load(minimal().replace('receivers:', 'processors:\n  batch:\n  batch/big: { send_batch_size: 20000 }\nreceivers:')
        .replace(/(logs: \{ receivers: \[[^\]]*\])/, '$1, processors: [batch, batch/big]'));
      // The Collector's defaults; a larger batch alone is valid (each request carries at most a batch).
      assert.deepEqual(used.processors.batch.settings, { timeoutMs: 200, sendBatchSize: 8192 });
      assert.deepEqual(used.processors['batch/big'].settings, { timeoutMs: 200, sendBatchSize: 20_000 });
    });
  });

  describe('errors', () => {
    it('names the file, the YAML path, the line:column of the key, and a suggestion for an unknown key', () => {
      const path = writeConfig(`receivers:
  syscalls:
    rate_limt: { records_per_second: 5 }
exporters: { console: {} }
service: { pipelines: { logs: { receivers: [syscalls], exporters: [console] } } }
`);
      const err = (() => {
        try {
          loadConfig({ path, env: {}, receiverTypes });
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error('no error');
      })();
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 1);
      assert.deepEqual(err.issues[0], {
        path: 'receivers.syscalls.rate_limt',
        line: 3,
        column: 5,
        message: 'unknown key "rate_limt"; did you mean "rate_limit"? valid keys: rate_limit, watch, flush_interval',
      });
      assert.ok(err.message.includes(`${path}:3:5: receivers.syscalls.rate_limt: unknown key "rate_limt"; did you mean "rate_limit"?`), err.message);
    });

    it('says what a bad value should be', () => {
      const err = loadError(`receivers:
  syscalls:
    rate_limit:
      records_per_second: 0
    flush_interval: soon
exporters:
  otlp:
    compression: zip
    timeout: 0s
    sending_queue: { queue_size: many }
    tls: { insecure: "yes" }
processors:
  batch: { send_batch_size: 1000, send_batch_max_size: 10 }
  resource: { attributes: [{ key: a, action: upsert }, { key: b, value: 1, action: replace }] }
service:
  pipelines:
    logs: { receivers: [syscalls], processors: [batch, resource], exporters: [otlp] }
  telemetry: { logs: { level: verbose }, metrics: { interval: 0 } }
`);
      assert.match(issueAt(err, 'receivers.syscalls.rate_limit.records_per_second').message, /^must be >= 1 \(got 0\)$/);
      assert.equal(issueAt(err, 'receivers.syscalls.rate_limit.records_per_second').line, 4);
      assert.match(issueAt(err, 'receivers.syscalls.flush_interval').message, /must be a duration like 500ms, 10s, 1m .* \(got "soon"\)/);
      assert.equal(issueAt(err, 'exporters.otlp.compression').message, 'must be one of: gzip, none (got "zip")');
      assert.equal(issueAt(err, 'exporters.otlp.timeout').message, 'must be at least 1ms (got "0s")');
      assert.equal(issueAt(err, 'exporters.otlp.sending_queue.queue_size').message, 'must be an integer (got "many")');
      assert.equal(issueAt(err, 'exporters.otlp.tls.insecure').message, 'must be a boolean (got "yes")');
      assert.equal(issueAt(err, 'processors.batch.send_batch_max_size').message, 'must be 0 (no limit) or >= send_batch_size (1000), got 10');
      assert.equal(issueAt(err, 'processors.resource.attributes[1].action').message, 'must be one of: insert, update, upsert, delete (got "replace")');
      assert.equal(issueAt(err, 'service.telemetry.logs.level').message, 'must be one of: debug, info, warn, error (got "verbose")');
      assert.equal(issueAt(err, 'service.telemetry.metrics.interval').message, 'must be at least 1ms (got 0)');
      assert.equal(err.issues.length, 10, err.message);
      // Reported in file order.
      const lines = err.issues.map((i) => i.line ?? 0);
      assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
    });

    it('needs a value for every resource action but delete', () => {
      const err = loadError(minimal().replace('receivers:', 'processors:\n  resource:\n    attributes:\n      - { key: a, action: upsert }\nreceivers:').replace('exporters: [console]', 'processors: [resource], exporters: [console]'));
      assert.deepEqual(err.issues.map((i) => [i.path, i.line, i.message]), [
        ['processors.resource.attributes[0]', 4, 'action "upsert" needs a value (only "delete" works without one)'],
      ]);
    });

    it('rejects unknown component types with the closest valid one', () => {
      const err = loadError(`receivers:
  sycalls: {}
processors:
  bach: {}
exporters:
  otlpgrpc/main: {}
service:
  pipelines:
    logs: { receivers: [sycalls], exporters: [otlpgrpc/main] }
`);
      assert.deepEqual(issueAt(err, 'receivers.sycalls'), {
        path: 'receivers.sycalls',
        line: 2,
        column: 3,
        message: 'unknown receiver type "sycalls"; did you mean "syscalls"? valid receiver types: syscalls, http',
      });
      assert.equal(issueAt(err, 'processors.bach').message, 'unknown processor type "bach"; did you mean "batch"? valid processor types: batch, resource, filter');
      assert.equal(issueAt(err, 'exporters.otlpgrpc/main').message, 'unknown exporter type "otlpgrpc"; valid exporter types: otlp, otlphttp, console, debug');
      assert.equal(err.issues.length, 3, err.message); // the pipeline's references are defined, just invalid
    });

    it('rejects invalid ids and unknown top-level keys', () => {
      const err = loadError(`recievers: {}
receivers:
  "sys calls": {}
exporters: { console: {} }
service:
  pipelines:
    log: { receivers: [syscalls], exporters: [console] }
    traces/: { receivers: [syscalls], exporters: [console] }
`);
      assert.equal(issueAt(err, 'recievers').message,
        'unknown key "recievers"; did you mean "receivers"? valid keys: receivers, processors, exporters, service');
      assert.match(issueAt(err, 'receivers["sys calls"]').message, /^invalid receiver id "sys calls"; an id is <type> or <type>\/<name>/);
      assert.match(issueAt(err, 'service.pipelines.log').message, /^invalid pipeline id "log"; .*did you mean "logs"\?/);
      assert.match(issueAt(err, 'service.pipelines.traces/').message, /^invalid pipeline id "traces\/"/);
    });

    it('rejects pipelines that reference undefined components, with a suggestion', () => {
      const err = loadError(`receivers:
  syscalls: {}
exporters:
  otlp: {}
  console: {}
processors:
  batch: {}
service:
  pipelines:
    logs:
      receivers: [syscall]
      processors: [batch, batch/2]
      exporters: [otlp, otlp/2]
`);
      assert.deepEqual(issueAt(err, 'service.pipelines.logs.receivers[0]'), {
        path: 'service.pipelines.logs.receivers[0]',
        line: 11,
        column: 19,
        message: 'receiver "syscall" is not defined under receivers; did you mean "syscalls"? valid receivers: syscalls',
      });
      assert.equal(issueAt(err, 'service.pipelines.logs.processors[1]').message,
        'processor "batch/2" is not defined under processors; did you mean "batch"? valid processors: batch');
      assert.equal(issueAt(err, 'service.pipelines.logs.exporters[1]').column, 25);
      assert.equal(err.issues.length, 3, err.message);
    });

    it('rejects a receiver in a pipeline of a signal it does not produce', () => {
      const err = loadError(`receivers: { syscalls: {}, http: {} }
exporters: { console: {} }
service:
  pipelines:
    traces: { receivers: [http, syscalls], exporters: [console] }
`);
      assert.deepEqual(err.issues.map((i) => [i.path, i.message]), [
        ['service.pipelines.traces.receivers[1]', 'receiver "syscalls" does not support traces; it produces logs, metrics'],
      ]);
    });

    it('rejects empty pipelines, duplicates and a file without pipelines', () => {
      const err = loadError(`receivers: { syscalls: {} }
exporters: { console: {} }
service:
  pipelines:
    logs: {}
    metrics: { receivers: [], exporters: [console, console] }
    logs/2:
`);
      assert.equal(issueAt(err, 'service.pipelines.logs').message, 'pipeline has no receivers; list at least one of: syscalls');
      assert.equal(issueAt(err, 'service.pipelines.metrics.receivers').message, 'pipeline has no receivers; list at least one of: syscalls');
      assert.equal(issueAt(err, 'service.pipelines.metrics.exporters[1]').message, 'exporter "console" is listed twice in this pipeline');
      assert.equal(err.issues.filter((i) => i.path === 'service.pipelines.logs').length, 2); // no receivers, no exporters
      assert.equal(err.issues.filter((i) => i.path === 'service.pipelines.logs/2').length, 2);

      const none = loadError('receivers: { syscalls: {} }\nservice: { pipelines: {} }\n');
      assert.match(issueAt(none, 'service.pipelines').message, /^no pipelines are defined/);
      const empty = loadError('');
      assert.equal(issueAt(empty, 'service').message, 'required key "service" is missing');
    });

    it('collects every error in one ConfigError', () => {
      const err = loadError(`receivers:
  syscalls:
    rate_limt: 5
  sycalls: {}
exporters:
  otlp: { compression: zip }
service:
  pipelines:
    logs: { receivers: [syscalls], exporters: [otlp/2] }
    traces: { receivers: [syscalls], exporters: [otlp] }
`);
      assert.deepEqual(err.issues.map((i) => `${i.line}:${i.column} ${i.path}`), [
        '3:5 receivers.syscalls.rate_limt',
        '4:3 receivers.sycalls',
        '6:11 exporters.otlp.compression',
        '9:48 service.pipelines.logs.exporters[0]',
        '10:27 service.pipelines.traces.receivers[0]',
      ]);
      assert.match(err.message, /\(5 errors\):\n {2}- /);
    });

    it('reports YAML syntax errors with their position', () => {
      const err = loadError('receivers:\n  syscalls: {}\n bad indent: 1\n');
      assert.equal(err.issues[0].line, 3);
      assert.match(err.issues[0].message, /^YAML syntax: /);
      const dup = loadError('receivers: {}\nreceivers: {}\n');
      assert.match(dup.issues[0].message, /unique/);
      assert.equal(dup.issues[0].line, 2);
    });

    it('reports an unreadable file', () => {
      assert.throws(() => loadConfig({ path: '/nonexistent/otel-config.yaml', env: {}, receiverTypes }), (e: unknown) =>
        e instanceof ConfigError && /\/nonexistent\/otel-config.yaml: cannot read the configuration file: ENOENT/.test(e.message));
    });

    it('rejects bad endpoints', () => {
      const err = loadError(`receivers: { syscalls: {} }
exporters:
  otlp: { endpoint: "collector" }
  otlphttp: { endpoint: "collector:4318", logs_endpoint: "ftp://x" }
  otlp/tls: { endpoint: "https://collector:4317", tls: { insecure: true } }
service:
  pipelines:
    logs: { receivers: [syscalls], exporters: [otlp, otlphttp, otlp/tls] }
`);
      assert.match(issueAt(err, 'exporters.otlp.endpoint').message, /^"collector" must be host:port or a URL like http:\/\/collector:4317/);
      assert.match(issueAt(err, 'exporters.otlphttp.endpoint').message, /^"collector:4318" must be a URL like http:\/\/collector:4318/);
      assert.match(issueAt(err, 'exporters.otlphttp.logs_endpoint').message, /^"ftp:\/\/x" must be a URL/);
      assert.match(issueAt(err, 'exporters.otlp/tls.tls.insecure').message, /is true but endpoint "https:\/\/collector:4317" uses https:\/\//);
    });
  });
});
