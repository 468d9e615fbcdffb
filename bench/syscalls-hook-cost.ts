// Benchmark 2: what the exit hook costs a process whose syscalls succeed (the common case: the
// program leaves at `ret >= 0`). A C loop of getppid() (and of 1-byte reads of /dev/zero), timed
// without the agent and with the agent on each hook variant, alternated over ROUNDS rounds
// (the order rotates each round); medians. BPF ns per invocation comes from the kernel's
// program stats (bpftool prog show: run_time_ns / run_cnt, deltas over the loop).
// The agent always turns BPF run-time stats on; two extra rows load the same tp_btf program from
// this process (no agent, empty watch table: identical on the success path) with the kernel's
// stats off and on, to separate the cost of the stats from the cost of the hook.
//
//   node bench/syscalls-hook-cost.ts        (env: CALLS=5000000 ROUNDS=3 MODES=getppid,read)
import { readFileSync, writeFileSync } from 'node:fs';
import { BpfObject } from '../native/index.ts';
import { objectPath } from '../src/bpf/loader.ts';
import {
  OtlpReceiver, startAgent, agentConfig, syscallsSettings, runStorm, stormBinary, bpfProgsOf,
  median, table, fmt, machine, backgroundLoad, type StormMode,
} from './lib.ts';

const CALLS = Number(process.env.CALLS ?? 5_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const MODES = (process.env.MODES ?? 'getppid,read').split(',') as StormMode[];
const VARIANTS = ['none', 'tp_btf', 'raw_tp', 'tracepoint', 'bare tp_btf, stats off', 'bare tp_btf, stats on'] as const;
type Variant = (typeof VARIANTS)[number];

interface Sample { nsPerCall: number; bpfNs: number; runsPerCall: number }

stormBinary();
const rx = await OtlpReceiver.start({ httpPort: null });

const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';
const statsBefore = readFileSync(STATS_SYSCTL, 'utf8').trim();
process.on('exit', () => writeFileSync(STATS_SYSCTL, statsBefore));

/** The receiver's tp_btf program loaded and attached from this process, without the agent. */
async function bare(mode: StormMode, stats: boolean): Promise<Sample> {
  const obj = new BpfObject(objectPath('syscalls.bpf.o'));
  try {
    for (const p of obj.programs()) obj.setAutoload(p.name, p.name === 'sys_exit_btf');
    obj.load();
    obj.attach('sys_exit_btf');
    writeFileSync(STATS_SYSCTL, stats ? '1' : '0');
    const stat = () => obj.programStats().find((p) => p.name === 'sys_exit_btf')!;
    const p0 = stat();
    const s = await runStorm(mode, CALLS);
    const p1 = stat();
    await s.release();
    const runs = p1.runCount - p0.runCount;
    return { nsPerCall: s.elapsedNs / s.calls, bpfNs: stats ? (p1.runTimeNs - p0.runTimeNs) / runs : NaN, runsPerCall: stats ? runs / s.calls : NaN };
  } finally {
    writeFileSync(STATS_SYSCTL, statsBefore);
    obj.close();
  }
}

async function measure(mode: StormMode, variant: Variant): Promise<Sample> {
  if (variant === 'none') {
    const s = await runStorm(mode, CALLS);
    await s.release();
    return { nsPerCall: s.elapsedNs / s.calls, bpfNs: NaN, runsPerCall: NaN };
  }
  if (variant.startsWith('bare')) return bare(mode, variant.endsWith('on'));
  const agent = await startAgent(agentConfig(rx.grpcEndpoint, syscallsSettings({ hook: variant }), { metricsInterval: '10s' }));
  try {
    if (!agent.stderr().includes(`syscalls(${variant}/`)) throw new Error(`agent did not attach ${variant}: ${agent.stderr()}`);
    const pid = agent.child.pid!;
    const prog = () => bpfProgsOf(pid).find((p) => p.name.startsWith('sys_exit'))!;
    const p0 = prog();
    const s = await runStorm(mode, CALLS);
    const p1 = prog();
    await s.release();
    const runs = (p1.run_cnt ?? 0) - (p0.run_cnt ?? 0);
    return { nsPerCall: s.elapsedNs / s.calls, bpfNs: ((p1.run_time_ns ?? 0) - (p0.run_time_ns ?? 0)) / runs, runsPerCall: runs / s.calls };
  } finally {
    const code = await agent.stop();
    if (code !== 0) console.error(`agent (${variant}) exited with ${code}:\n${agent.stderr()}`);
  }
}

console.log(`# syscalls-hook-cost: ${fmt(CALLS)} successful syscalls per loop, ${ROUNDS} alternated rounds (medians), ${machine()}`);
console.log(await backgroundLoad());
for (const mode of MODES) {
  const samples = new Map<Variant, Sample[]>(VARIANTS.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
    for (const v of order) {
      const s = await measure(mode, v);
      samples.get(v)!.push(s);
      console.error(`${mode} round ${r + 1} ${v}: ${s.nsPerCall.toFixed(1)} ns/call, BPF ${s.bpfNs.toFixed(1)} ns/run, ${s.runsPerCall.toFixed(3)} runs/call`);
    }
  }
  const base = median(samples.get('none')!.map((s) => s.nsPerCall));
  table(`${mode === 'getppid' ? 'getppid()' : 'read(/dev/zero, 1 byte)'} loop, ${fmt(CALLS)} calls, 1 thread`,
    ['hook', 'ns/call', 'range', 'added ns/call', 'slowdown ratio', 'BPF ns/run', 'runs/call'],
    VARIANTS.map((v) => {
      const xs = samples.get(v)!;
      const ns = median(xs.map((s) => s.nsPerCall));
      const lo = Math.min(...xs.map((s) => s.nsPerCall)), hi = Math.max(...xs.map((s) => s.nsPerCall));
      return [
        v === 'none' ? 'no agent (baseline)' : v, ns.toFixed(1), `${lo.toFixed(0)}–${hi.toFixed(0)}`,
        v === 'none' ? '—' : (ns - base).toFixed(1), (ns / base).toFixed(3),
        Number.isNaN(xs[0].bpfNs) ? '—' : median(xs.map((s) => s.bpfNs)).toFixed(1), Number.isNaN(xs[0].runsPerCall) ? '—' : median(xs.map((s) => s.runsPerCall)).toFixed(3),
      ];
    }));
}
await rx.stop();
