// The failing-syscall workload (fixtures/fail.c): performs an exact number of failures, reports
// them, and stays alive until released so its /proc entry can be read.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const SOURCE = new URL('../fixtures/fail.c', import.meta.url).pathname;
let binary: string | undefined;

export function failBinary(): string {
  if (binary) return binary;
  const dir = mkdtempSync(join(tmpdir(), 'kotel-fail-'));
  chmodSync(dir, 0o755);
  binary = join(dir, 'fail');
  execFileSync('cc', ['-O2', '-Wall', '-o', binary, SOURCE]);
  return binary;
}

export interface Workload { pid: number; failures: number; release(): Promise<void>; child: ChildProcess }

export async function runFailures(kind: string, count: number, arg = '', opts: { uid?: number; gid?: number } = {}): Promise<Workload> {
  const child = spawn(failBinary(), [kind, String(count), arg], { stdio: ['pipe', 'pipe', 'inherit'], ...opts });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  while (!out.includes('\n')) {
    const [ev] = await Promise.race([once(child.stdout!, 'data').then(() => ['data']), once(child, 'exit').then(() => ['exit'])]);
    if (ev === 'exit' && !out.includes('\n')) throw new Error(`fail ${kind} exited early (code ${child.exitCode})`);
  }
  const [failures, pid] = out.trim().split(' ').map(Number);
  return {
    pid, failures, child,
    async release() {
      if (child.exitCode !== null) return;
      child.stdin!.end('\n');
      await once(child, 'exit');
    },
  };
}
