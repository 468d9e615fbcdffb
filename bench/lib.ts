// Shared helpers of kotel's benchmarks: the storm/loop workload (fixtures/storm.c), per-process
// CPU and memory from /proc, BPF program stats from bpftool, and small table printing.
// The agent and the OTLP sink are the repo's own test helpers (real agent, real OTLP/gRPC).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startAgent, otlpConfig, type AgentProcess } from '../test/e2e/helpers/agent.ts';
import { OtlpReceiver, latestSum, type LogRecord } from '../test/support/otlp-receiver.ts';
import { MonotonicClock } from '../src/pipeline/clock.ts';
import { ProcessCache } from '../src/pipeline/processes.ts';
import type { ReceiverContext } from '../src/receivers/receiver.ts';

export { startAgent, otlpConfig, OtlpReceiver, latestSum };
export type { AgentProcess, LogRecord };

export const NOBODY = 65534;

/** What the agent gives a receiver, for receivers run inside a benchmark: no self-telemetry, no diagnostics. */
export function inProcessContext(id: string, opts: { settings?: object; clock?: MonotonicClock; bpfRunTimeStats?: boolean } = {}): ReceiverContext<never> {
  return {
    id, settings: (opts.settings ?? {}) as never, processes: new ProcessCache(), clock: opts.clock ?? new MonotonicClock(),
    selfTelemetry: { addSource() {} } as never, diag: { info() {}, warn() {} } as never, metricsIntervalMs: 1000,
    bpfRunTimeStats: opts.bpfRunTimeStats,
  };
}
const SOURCE = new URL('./fixtures/storm.c', import.meta.url).pathname;

let dir: string | undefined;
/** A world-readable scratch directory (the storm binary runs as nobody for EACCES). */
export function scratchDir(): string {
  if (dir) return dir;
  dir = mkdtempSync(join(tmpdir(), 'kotel-bench-'));
  chmodSync(dir, 0o755);
  return dir;
}

let binary: string | undefined;
export function stormBinary(): string {
  if (binary) return binary;
  binary = join(scratchDir(), 'storm');
  execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, SOURCE]);
  return binary;
}

/** A 0600 root-owned file: openat on it as nobody fails with EACCES. */
export function secretFile(): string {
  const p = join(scratchDir(), 'secret');
  writeFileSync(p, 'x');
  chmodSync(p, 0o600);
  return p;
}

export type StormMode = 'enoent' | 'eacces' | 'getppid' | 'read';
export interface StormResult {
  calls: number;
  failures: number;
  elapsedNs: number;
  pids: number[];
  child: ChildProcess;
  /** lets the worker processes exit */
  release(): Promise<void>;
}

export interface StormOptions { procs?: number; threads?: number; path?: string; uid?: number; gid?: number; onStart?: () => void }

/** Runs `calls` syscalls of `mode` on procs × threads workers; resolves when all are done (processes stay alive until release()). */
export async function runStorm(mode: StormMode, calls: number, opts: StormOptions = {}): Promise<StormResult> {
  const args = [mode, String(calls), String(opts.procs ?? 1), String(opts.threads ?? 1)];
  if (opts.path) args.push(opts.path);
  const child = spawn(stormBinary(), args, { stdio: ['pipe', 'pipe', 'inherit'], uid: opts.uid, gid: opts.gid });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  while (!out.includes('\n')) {
    const [ev] = await Promise.race([once(child.stdout!, 'data').then(() => ['data']), once(child, 'exit').then(() => ['exit'])]);
    if (ev === 'exit' && !out.includes('\n')) throw new Error(`storm ${args.join(' ')} exited early (code ${child.exitCode})`);
  }
  const [c, f, ns, pids] = out.trim().split(' ');
  return {
    calls: Number(c), failures: Number(f), elapsedNs: Number(ns), pids: pids.split(',').map(Number), child,
    async release() {
      if (child.exitCode !== null) return;
      child.stdin!.end('\n');
      await once(child, 'exit');
    },
  };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User + system CPU seconds of a process (all its threads, live and exited). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3): utime is field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Nanosecond-precise CPU of the live threads (schedstat sum_exec_runtime), for short windows. */
export function cpuSecondsPrecise(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
  }
  return ns / 1e9;
}

export function statusKb(pid: number, field: string): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : NaN;
}

export interface BpfProg { id: number; name: string; type: string; run_time_ns?: number; run_cnt?: number; bytes_memlock?: number }
export interface BpfMapInfo { id: number; name: string; type: string; bytes_memlock?: number; max_entries?: number }

/** BPF object ids a process holds through its fds (maps, programs, and programs behind links), from fdinfo. */
export function bpfIdsOf(pid: number): { progs: Set<number>; maps: Set<number> } {
  const progs = new Set<number>(), maps = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try { info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'); } catch { continue; }
    const prog = info.match(/^prog_id:\s+(\d+)/m);
    const map = info.match(/^map_id:\s+(\d+)/m);
    if (prog) progs.add(Number(prog[1]));
    if (map) maps.add(Number(map[1]));
  }
  return { progs, maps };
}

/** Programs `pid` holds, with their run-time stats (bpftool prog show; stats need BPF stats enabled). */
export function bpfProgsOf(pid: number): BpfProg[] {
  const { progs } = bpfIdsOf(pid);
  const all = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j']).toString()) as BpfProg[];
  return all.filter((p) => progs.has(p.id));
}

/** Maps `pid` holds (bpftool map show: bytes_memlock is the kernel's memory charge). */
export function bpfMapsOf(pid: number): BpfMapInfo[] {
  const { maps } = bpfIdsOf(pid);
  const all = JSON.parse(execFileSync('bpftool', ['map', 'show', '-j']).toString()) as BpfMapInfo[];
  return all.filter((m) => maps.has(m.id));
}

/** Receiver YAML settings with one watch rule (plus options). */
export function syscallsSettings(opts: { errnos?: string[]; syscalls?: string[]; recordsPerSecond?: number; hook?: string } = {}): string {
  const parts = [`watch: [{ syscalls: [${(opts.syscalls ?? ['openat']).join(', ')}], errnos: [${(opts.errnos ?? ['ENOENT', 'EACCES']).join(', ')}], category: file }]`];
  if (opts.recordsPerSecond) parts.push(`rate_limit: { records_per_second: ${opts.recordsPerSecond} }`);
  if (opts.hook) parts.push(`hook: ${opts.hook}`);
  return `{ ${parts.join(', ')} }`;
}

/** The agent's config for a benchmark: the syscalls receiver → OTLP/gRPC (the e2e tests' shape, see otlpConfig). */
export function agentConfig(endpoint: string, settings: string, opts: { metricsInterval?: string; queueSize?: number; bpfRunTime?: boolean } = {}): string {
  const queue = opts.queueSize ? `\n    sending_queue: { queue_size: ${opts.queueSize} }` : '';
  return `receivers:
  syscalls: ${settings}
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }${queue}
processors:
  batch: { timeout: 100ms }
service:
  pipelines:
    logs: { receivers: [syscalls], processors: [batch], exporters: [otlp] }
    metrics: { receivers: [syscalls], exporters: [otlp] }
  telemetry:
    metrics: { interval: ${opts.metricsInterval ?? '1s'}${opts.bpfRunTime ? ', bpf_run_time: true' : ''} }
`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function table(title: string, headers: string[], rows: Array<Array<string | number>>): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

function busyJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

/** Host CPU busy over `ms` (as % of one core) before a benchmark starts: anything else running skews every figure on 2 cores. */
export async function backgroundLoad(ms = 1000): Promise<string> {
  const a = busyJiffies();
  await sleep(ms);
  const b = busyJiffies();
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 1;
  const pct = (100 * cores * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
  // Another process's BPF programs on the same hooks add their cost to every figure here.
  const progs = (JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j']).toString()) as BpfProg[])
    .filter((p) => ['tracing', 'raw_tracepoint', 'tracepoint', 'kprobe', 'perf_event'].includes(p.type));
  const foreign = progs.length ? `; WARNING: ${progs.length} tracing BPF program(s) already loaded (${[...new Set(progs.map((p) => p.name))].join(', ')}), figures include their cost` : '';
  return `host busy before start: ${pct.toFixed(0)}% of one core${pct > 10 ? ' — WARNING: other load is running, figures are skewed' : ''}${foreign}`;
}

export function machine(): string {
  const cpus = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/gm) ?? [];
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return `${cpus.length} CPU (${(cpus[0] ?? '').replace(/^model name\s*:\s*/, '')}), Linux ${kernel}, Node ${process.version}`;
}

/** Sum of linux.syscall.occurrences over the log records of the given pids. */
export function occurrencesOf(rx: OtlpReceiver, pids: number[], errno: string): { records: number; occurrences: number } {
  const set = new Set(pids);
  let records = 0, occurrences = 0;
  for (const l of rx.logs()) {
    if (!set.has(Number(l.resource['process.pid'])) || l.attributes['error.type'] !== errno) continue;
    records++;
    occurrences += Number(l.attributes['linux.syscall.occurrences']);
  }
  return { records, occurrences };
}

/** linux.syscall.errors summed over the given pids' resources. */
export function errorsCounterOf(rx: OtlpReceiver, pids: number[], errno: string): number {
  const set = new Set(pids);
  return latestSum(rx.metrics(), 'linux.syscall.errors', { 'error.type': errno }, { resource: (r) => set.has(Number(r['process.pid'])) }) ?? 0;
}

/** kotel's own cumulative metric (latest value, summed over matching streams). */
export function selfMetric(rx: OtlpReceiver, name: string, attrs: Record<string, string> = {}): number {
  return latestSum(rx.metrics(), name, attrs, { resource: { 'service.name': 'kotel' } }) ?? 0;
}

/** Throughput, p99 latency (ms, from `--latency`) and request count of a wrk run's output. */
export function parseWrk(out: string): { rps: number; p99ms: number; requests: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out)!;
  return { rps, p99ms: Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1), requests };
}
