// Shared fixtures for the config tests: a small fake receiver registry and real files in a temp dir.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type AgentConfig, type ReceiverTypes } from '../../src/config/index.ts';

export const receiverTypes: ReceiverTypes = {
  syscalls: {
    signals: ['logs', 'metrics'],
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rate_limit: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { records_per_second: { type: 'integer', minimum: 1, default: 10 } },
        },
        watch: { type: 'array', items: { type: 'string' }, default: ['openat'] },
        flush_interval: { duration: true, default: '5s' },
      },
    },
  },
  http: { signals: ['traces', 'metrics'], schema: { type: 'object', additionalProperties: false, properties: { port: { type: 'integer' } } } },
};

let dir: string | undefined;

/** Write `text` to a fresh file in a temp dir and return its path. */
export function writeConfig(text: string, name = 'otel-config.yaml'): string {
  dir ??= mkdtempSync(join(tmpdir(), 'kotel-config-'));
  const path = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(path, text);
  return path;
}

export function cleanupConfigs(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** Load `text` from a real file with a given env. */
export function load(text: string, env: Record<string, string> = {}): AgentConfig {
  return loadConfig({ path: writeConfig(text), env, receiverTypes });
}

/** Load `text` and return the ConfigError it must throw. */
export function loadError(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    load(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** The smallest valid file, with `extra` YAML appended under the top level. */
export const minimal = (exporters = 'console: {}') => `receivers:
  syscalls: {}
exporters:
  ${exporters}
service:
  pipelines:
    logs: { receivers: [syscalls], exporters: [${exporters.split(':')[0].trim()}] }
`;
