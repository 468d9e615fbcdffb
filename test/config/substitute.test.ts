import assert from 'node:assert/strict';
import { substituteEnv, SubstitutionError } from '../../src/config/index.ts';
import { cleanupConfigs, load, loadError, receiverTypes } from './helpers.ts';

describe('config/substitute', () => {
  after(cleanupConfigs);
  const env = { HOST: 'collector', EMPTY: '', PORT: '4317' };

  it('expands ${VAR} and ${env:VAR}', () => {
    assert.equal(substituteEnv('http://${HOST}:${env:PORT}', env), 'http://collector:4317');
  });

  it('uses the default after :- when the variable is unset or empty', () => {
    assert.equal(substituteEnv('${MISSING:-http://localhost:4317}', env), 'http://localhost:4317');
    assert.equal(substituteEnv('${env:MISSING:-x}', env), 'x');
    assert.equal(substituteEnv('${EMPTY:-fallback}', env), 'fallback');
    assert.equal(substituteEnv('${HOST:-fallback}', env), 'collector');
    assert.equal(substituteEnv('${MISSING:-}', env), '');
  });

  it('turns an unset variable without a default into the empty string', () => {
    assert.equal(substituteEnv('key=${MISSING}', env), 'key=');
  });

  it('treats $$ as a literal $ and leaves other $ alone', () => {
    assert.equal(substituteEnv('$${HOST}', env), '${HOST}');
    assert.equal(substituteEnv('cost: $$5', env), 'cost: $5');
    assert.equal(substituteEnv('$$$${HOST}', env), '$${HOST}');
    assert.equal(substituteEnv('$$${HOST}', env), '$collector');
    assert.equal(substituteEnv('^foo$', env), '^foo$');
    assert.equal(substituteEnv('$HOST', env), '$HOST');
  });

  it('rejects malformed references', () => {
    assert.throws(() => substituteEnv('${HOST', env), SubstitutionError);
    assert.throws(() => substituteEnv('${1BAD}', env), /invalid environment variable name/);
    assert.throws(() => substituteEnv('${file:/etc/passwd}', env), /only environment variables/);
  });

  it('substitutes values in the file but never keys, and types a whole unquoted reference', () => {
    const config = load(
      `receivers:
  syscalls:
    rate_limit:
      records_per_second: \${RATE:-25}
    watch: ["\${RATE}", "\${SYSCALL}", "$\${SYSCALL}", "\${RATE:-7}"]
exporters:
  otlp:
    endpoint: \${ENDPOINT:-http://localhost:4317}
    headers:
      x-api-key: "\${API_KEY}"
      \${KEY}: v
service:
  pipelines:
    logs: { receivers: [syscalls], exporters: [otlp] }
`,
      { RATE: '', SYSCALL: 'openat', API_KEY: 'secret', KEY: 'k' },
    );
    assert.deepEqual(config.receivers.syscalls.settings.rate_limit, { records_per_second: 25 });
    assert.deepEqual(config.receivers.syscalls.settings.watch, ['', 'openat', '${SYSCALL}', '7']);
    assert.equal(config.exporters.otlp.endpoints.logs, 'http://localhost:4317');
    assert.deepEqual(config.exporters.otlp.headers, { 'x-api-key': 'secret', '${key}': 'v' });
  });

  it('explains that ${...} needs quotes inside flow braces', () => {
    const err = loadError(`receivers:
  syscalls: { rate_limit: { records_per_second: \${RATE} } }
`);
    assert.equal(err.issues[0].line, 2);
    assert.match(err.message, /YAML syntax: .*quote values that use \$\{\.\.\.\}/);
  });

  it('keeps a quoted whole reference a string (so the schema can say so)', () => {
    const err = loadError(
      `receivers:
  syscalls:
    rate_limit: { records_per_second: "\${RATE}" }
exporters: { console: {} }
service: { pipelines: { logs: { receivers: [syscalls], exporters: [console] } } }
`,
      { RATE: '5' },
    );
    assert.match(err.message, /receivers\.syscalls\.rate_limit\.records_per_second: must be an integer \(got "5"\)/);
  });

  it('reports a malformed reference with its path and position, once', () => {
    const err = loadError(`receivers:
  syscalls: {}
exporters:
  otlp:
    endpoint: "\${OTEL_ENDPOINT"
service: { pipelines: { logs: { receivers: [syscalls], exporters: [otlp] } } }
`);
    assert.equal(err.issues.length, 1, err.message);
    assert.equal(err.issues[0].path, 'exporters.otlp.endpoint');
    assert.equal(err.issues[0].line, 5);
    assert.match(err.message, /unterminated "\$\{"/);
    void receiverTypes;
  });
});
