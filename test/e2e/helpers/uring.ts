// The io_uring behaviour fixture (fixtures/uring.c, liburing): runs one scenario with exact,
// known outcomes, reports what it did as one JSON line, and stays alive until released so its
// /proc entry can be read when the agent exports.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = new URL('../fixtures/uring.c', import.meta.url).pathname;
let binary: string | undefined;

function uringBinary(): string {
  if (binary) return binary;
  const dir = mkdtempSync(join(tmpdir(), 'kotel-uring-'));
  chmodSync(dir, 0o755);
  binary = join(dir, 'uring');
  execFileSync('cc', ['-O2', '-Wall', '-o', binary, SOURCE, '-luring']);
  return binary;
}

/** What the fixture printed: per-opcode request counts, CQE tallies and `errors` by errno number. */
export interface UringReport {
  pid: number; mode: string; cqes: number; cqes_more: number; ok: number; errors: Record<string, number>;
  [count: string]: number | string | Record<string, number>;
}

export interface UringRun { report: UringReport; release(): Promise<void> }

export async function runUring(mode: 'multishot' | 'overflow' | 'errors' | 'async' | 'sendzc', count: number): Promise<UringRun> {
  const child = spawn(uringBinary(), [mode, String(count)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = once(child, 'exit');
  while (!out.includes('\n')) {
    const ev = await Promise.race([once(child.stdout!, 'data').then(() => 'data'), exited.then(() => 'exit')]);
    if (ev === 'exit' && !out.includes('\n')) throw new Error(`uring ${mode} exited early (code ${child.exitCode}): ${err}`);
  }
  return {
    report: JSON.parse(out.slice(0, out.indexOf('\n'))) as UringReport,
    async release() {
      if (child.exitCode !== null) return;
      child.stdin!.end('\n');
      await exited;
    },
  };
}
