// Benchmark 1: a failure storm. N failing openat calls on 1 thread, 2 threads (one process, one
// counter key) and 2 processes (two keys), without and with the agent (default rate limit,
// 10 records/s per key). With the agent, every run is checked for exactness through OTLP: the
// linux.syscall.errors counter and the sum of linux.syscall.occurrences over the log records
// must both equal N.
//
//   node bench/syscalls-storm.ts            (env: CALLS=2000000 ROUNDS=2)
import {
  OtlpReceiver, startAgent, agentConfig, syscallsSettings, runStorm, stormBinary, secretFile, NOBODY,
  cpuSecondsPrecise, bpfProgsOf, occurrencesOf, errorsCounterOf, median, table, fmt, machine, backgroundLoad, type StormMode, type AgentProcess,
} from './lib.ts';

const CALLS = Number(process.env.CALLS ?? 2_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);

interface Case { name: string; mode: StormMode; errno: string; procs: number; threads: number; nobody?: boolean }
const CASES: Case[] = [
  { name: 'ENOENT, 1 thread', mode: 'enoent', errno: 'ENOENT', procs: 1, threads: 1 },
  { name: 'ENOENT, 2 threads (1 key)', mode: 'enoent', errno: 'ENOENT', procs: 1, threads: 2 },
  { name: 'ENOENT, 2 processes (2 keys)', mode: 'enoent', errno: 'ENOENT', procs: 2, threads: 1 },
  { name: 'EACCES as nobody, 2 processes', mode: 'eacces', errno: 'EACCES', procs: 2, threads: 1, nobody: true },
];

interface AgentRun { rate: number; records: number; recordsPerSec: number; cpuPct: number; bpfNs: number; counter: number; occurrences: number; exact: boolean; verifyMs: number }

stormBinary();
const secret = secretFile();
const opts = (c: Case) => ({ procs: c.procs, threads: c.threads, ...(c.nobody ? { uid: NOBODY, gid: NOBODY, path: secret } : {}) });

async function baseline(c: Case): Promise<number> {
  const s = await runStorm(c.mode, CALLS, opts(c));
  await s.release();
  if (s.failures !== CALLS) throw new Error(`${c.name}: ${s.failures} of ${CALLS} calls failed as expected`);
  return s.failures / (s.elapsedNs / 1e9);
}

async function withAgent(c: Case, agent: AgentProcess, rx: OtlpReceiver): Promise<AgentRun> {
  const pid = agent.child.pid!;
  const prog = () => bpfProgsOf(pid).find((p) => p.name.startsWith('sys_exit'));
  const p0 = prog();
  const cpu0 = cpuSecondsPrecise(pid);
  const s = await runStorm(c.mode, CALLS, opts(c));
  const cpu1 = cpuSecondsPrecise(pid);
  const p1 = prog();
  const stormSec = s.elapsedNs / 1e9;
  const t0 = Date.now();
  let exact = true;
  try {
    await rx.waitFor(() => occurrencesOf(rx, s.pids, c.errno).occurrences >= CALLS && errorsCounterOf(rx, s.pids, c.errno) >= CALLS,
      { timeoutMs: 20_000, what: `${c.name}: ${CALLS} occurrences and counter` });
  } catch { exact = false; }
  const verifyMs = Date.now() - t0;
  const { records, occurrences } = occurrencesOf(rx, s.pids, c.errno);
  const counter = errorsCounterOf(rx, s.pids, c.errno);
  await s.release();
  exact &&= occurrences === CALLS && counter === CALLS && s.failures === CALLS;
  const runs = p0 && p1 ? (p1.run_cnt ?? 0) - (p0.run_cnt ?? 0) : 0;
  const bpfNs = runs > 0 ? ((p1!.run_time_ns ?? 0) - (p0!.run_time_ns ?? 0)) / runs : NaN;  // NaN: statistics off
  return {
    rate: s.failures / stormSec, records, recordsPerSec: records / stormSec, cpuPct: (100 * (cpu1 - cpu0)) / stormSec,
    bpfNs, counter, occurrences, exact, verifyMs,
  };
}

console.log(`# syscalls-storm: ${fmt(CALLS)} failing openat per run, ${ROUNDS} rounds (medians), ${machine()}`);
console.log(await backgroundLoad());
const base = new Map<string, number[]>();
const runs = new Map<string, AgentRun[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const c of CASES) {
    const rate = await baseline(c);
    base.set(c.name, [...(base.get(c.name) ?? []), rate]);
  }
  const rx = await OtlpReceiver.start({ httpPort: null });
  // BPF_STATS=1 turns on the kernel's run-time statistics to report BPF ns/call; they slow every hook run.
  const agent = await startAgent(agentConfig(rx.grpcEndpoint, syscallsSettings({ errnos: ['ENOENT', 'EACCES'] }), { metricsInterval: '200ms', bpfRunTime: process.env.BPF_STATS === '1' }));
  try {
    for (const c of CASES) {
      const run = await withAgent(c, agent, rx);
      runs.set(c.name, [...(runs.get(c.name) ?? []), run]);
      console.error(`round ${r + 1} ${c.name}: ${fmt(run.rate)} /s, records ${run.records}, cpu ${fmt(run.cpuPct, 1)}%, counter ${run.counter}, occurrences ${run.occurrences}, exact ${run.exact}`);
    }
  } finally {
    const code = await agent.stop();
    await rx.stop();
    if (code !== 0) console.error(`agent exited with ${code}:\n${agent.stderr()}`);
  }
}

const rows = CASES.map((c) => {
  const b = median(base.get(c.name)!);
  const a = runs.get(c.name)!;
  const rate = median(a.map((x) => x.rate));
  const allExact = a.every((x) => x.exact);
  return [
    c.name, fmt(b), fmt(rate), (rate / b).toFixed(2), allExact ? `yes (${a.length}/${a.length})` : `NO (${a.filter((x) => x.exact).length}/${a.length})`,
    fmt(median(a.map((x) => x.records))), fmt(median(a.map((x) => x.recordsPerSec)), 1), fmt(median(a.map((x) => x.cpuPct)), 1),
    fmt(median(a.map((x) => x.bpfNs))), fmt(median(a.map((x) => x.verifyMs))),
  ];
});
table(`failure storm, ${fmt(CALLS)} failures per run (default rate limit 10 records/s per key)`,
  ['workload', 'no agent /s', 'with agent /s', 'ratio', 'exact (counter = Σ occurrences = N)', 'log records', 'records/s', 'agent CPU % of 1 core', 'BPF ns/call', 'ms to exact'], rows);
const failed = [...runs.values()].flat().filter((x) => !x.exact);
if (failed.length) console.log(`\nNOT exact: ${failed.map((x) => `counter ${x.counter}, occurrences ${x.occurrences}`).join('; ')}`);
