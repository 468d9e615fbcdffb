// kotel's command line: `run` starts the agent, `check` says what this host can run.
import { parseArgs } from 'node:util';
import { loadConfig, defaultConfig, ConfigError, type AgentConfig } from '../config/index.ts';
import { Agent } from '../agent.ts';
import { RECEIVERS, receiverTypes } from '../receivers/registry.ts';
import { KOTEL_VERSION } from '../pipeline/scope.ts';
import { formatChecks, hostChecks, receiverChecks } from './check.ts';
import { headroomFromEnv, keepHeapHeadroom } from './heap-headroom.ts';

const USAGE = `usage: kotel <command> [--config FILE]
commands:
  run      start the agent (embedded default config unless --config is given)
  check    report, per receiver, whether this kernel and these privileges can run it
  version  print the version`;

function readConfig(path: string | undefined): AgentConfig {
  if (path) return warned(loadConfig({ path, env: process.env, receiverTypes: receiverTypes() }));
  // The embedded default enables every receiver that can run here.
  const base = defaultConfig({ env: process.env, receiverTypes: receiverTypes(), availableReceivers: RECEIVERS.map((r) => r.type) });
  const runnable = receiverChecks(base).filter((r) => r.ok).map((r) => base.receivers[r.id].type);
  return warned(defaultConfig({ env: process.env, receiverTypes: receiverTypes(), availableReceivers: runnable.length ? runnable : RECEIVERS.map((r) => r.type) }));
}

/** A valid config can still say something is off (an unused component, a queue smaller than its batch). */
function warned(config: AgentConfig): AgentConfig {
  for (const w of config.warnings) process.stderr.write(`kotel warn: config ${config.source}: ${w}\n`);
  return config;
}

async function run(configPath: string | undefined): Promise<number> {
  const config = readConfig(configPath);
  keepHeapHeadroom(headroomFromEnv(process.env));
  const agent = new Agent(config);
  let signals = 0;
  const stop = (sig: string) => {
    if (signals++) { process.stderr.write(`kotel: second ${sig}, exiting without flushing\n`); process.exit(130); }
    process.stderr.write(`kotel: ${sig} received, flushing\n`);
    agent.shutdown().then(() => process.exit(0), (e) => { process.stderr.write(`kotel: shutdown failed: ${(e as Error).message}\n`); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.start();
  if (agent.receivers.size === 0) {
    process.stderr.write('kotel: no receiver could start (see the errors above); `kotel check` names the fix\n');
    return 1;
  }
  process.stderr.write(`${agent.readyLine()}\n`);
  return new Promise<number>(() => undefined);  // runs until a signal
}

function check(configPath: string | undefined): number {
  const config = configPath ? readConfig(configPath) : defaultConfig({ env: process.env, receiverTypes: receiverTypes(), availableReceivers: RECEIVERS.map((r) => r.type) });
  const host = hostChecks();
  const receivers = receiverChecks(config);
  process.stdout.write(`${formatChecks(host, receivers)}\n`);
  const ok = host.filter((i) => i.what === 'privileges' || i.what === 'native addon').every((i) => i.ok) && receivers.every((r) => r.ok);
  return ok ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) { process.stdout.write(`${USAGE}\n`); return command ? 0 : 2; }
  try {
    switch (command) {
      case 'run': return await run(values.config);
      case 'check': return check(values.config);
      case 'version': process.stdout.write(`kotel ${KOTEL_VERSION}\n`); return 0;
      default: process.stderr.write(`kotel: unknown command "${command}"\n${USAGE}\n`); return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(`kotel: ${err.message}\n`); return 2; }
    throw err;
  }
}
