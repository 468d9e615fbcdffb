// Runs the real agent (bin/kotel.js) as a child process, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../..', import.meta.url).pathname;

export interface AgentProcess {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startAgent(configYaml: string | undefined, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<AgentProcess> {
  // KOTEL_AGENT_ROOT: run another checkout's agent (benchmarks compare a previous build side by side).
  const args = [join(env.KOTEL_AGENT_ROOT ?? ROOT, 'bin/kotel.js'), 'run'];
  if (configYaml !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'kotel-agent-'));
    writeFileSync(join(dir, 'otel-config.yaml'), configYaml);
    args.push('--config', join(dir, 'otel-config.yaml'));
  }
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  child.stderr!.on('data', (d) => { err += d; });
  child.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready after ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const onData = () => { if (/\bready\b/.test(err)) { clearTimeout(timer); resolve(); } };
    child.stderr!.on('data', onData);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`agent exited with ${code} before ready:\n${err}`)); });
  });
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function otlpConfig(endpoint: string, receiverSettings = '{}', extra = ''): string {
  return `receivers:
  syscalls: ${receiverSettings}
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
processors:
  batch: { timeout: 100ms }
service:
  pipelines:
    logs: { receivers: [syscalls], processors: [batch], exporters: [otlp] }
    metrics: { receivers: [syscalls], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
${extra}`;
}
