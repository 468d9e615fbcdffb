// Benchmark 4: the idle agent. The agent with the default watch list exporting to a local OTLP
// receiver (metrics every 10 s), next to a bare Node process (the baseline) over the same window:
// CPU % over DURATION seconds, RSS, and the kernel memory of the agent's BPF maps and programs
// (bytes_memlock from bpftool, for the map/program ids the agent holds per /proc/<pid>/fdinfo).
//
//   node bench/idle.ts                      (env: DURATION=30)
import { spawn } from 'node:child_process';
import {
  OtlpReceiver, startAgent, agentConfig, cpuSeconds, statusKb, bpfMapsOf, bpfProgsOf, sleep, table, fmt, machine, backgroundLoad,
} from './lib.ts';

const DURATION = Number(process.env.DURATION ?? 30);

console.log(`# idle: ${DURATION} s, ${machine()}`);
console.log(await backgroundLoad());
const rx = await OtlpReceiver.start({ httpPort: null });
const agent = await startAgent(agentConfig(rx.grpcEndpoint, '{}', { metricsInterval: '10s' }));
const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
try {
  const pid = agent.child.pid!;
  await sleep(3000);  // past start-up
  const prog = () => bpfProgsOf(pid).find((p) => p.name.startsWith('sys_exit'))!;
  const a0 = cpuSeconds(pid), b0 = cpuSeconds(bare.pid!), p0 = prog(), t0 = process.hrtime.bigint();
  await sleep(DURATION * 1000);
  const a1 = cpuSeconds(pid), b1 = cpuSeconds(bare.pid!), p1 = prog();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const maps = bpfMapsOf(pid);
  const progs = bpfProgsOf(pid);
  const mapBytes = maps.reduce((n, m) => n + (m.bytes_memlock ?? 0), 0);
  const progBytes = progs.reduce((n, p) => n + (p.bytes_memlock ?? 0), 0);
  const runs = (p1.run_cnt ?? 0) - (p0.run_cnt ?? 0);
  const agentRss = statusKb(pid, 'VmRSS'), bareRss = statusKb(bare.pid!, 'VmRSS');

  table(`idle agent over ${sec.toFixed(1)} s (default watch list, OTLP/gRPC to loopback, metrics every 10 s)`,
    ['figure', 'agent', 'bare node (baseline)', 'ratio / difference'], [
      ['CPU, % of one core', fmt((100 * (a1 - a0)) / sec, 2), fmt((100 * (b1 - b0)) / sec, 2), `+${fmt((100 * (a1 - a0 - (b1 - b0))) / sec, 2)} points`],
      ['VmRSS', `${fmt(agentRss / 1024, 1)} MiB`, `${fmt(bareRss / 1024, 1)} MiB`, `${(agentRss / bareRss).toFixed(2)}× (+${fmt((agentRss - bareRss) / 1024, 1)} MiB)`],
      ['VmHWM (peak RSS)', `${fmt(statusKb(pid, 'VmHWM') / 1024, 1)} MiB`, `${fmt(statusKb(bare.pid!, 'VmHWM') / 1024, 1)} MiB`, ''],
      ['BPF maps (memlock)', `${fmt(mapBytes / 1024 / 1024, 2)} MiB in ${maps.length} maps`, '—', ''],
      ['BPF programs (memlock)', `${fmt(progBytes / 1024, 0)} KiB in ${progs.length} program(s)`, '—', ''],
      ['hook runs/s (every syscall on the host)', fmt(runs / sec), '—', ''],
      ['BPF time, % of one core (charged to the callers)', fmt((100 * ((p1.run_time_ns ?? 0) - (p0.run_time_ns ?? 0))) / 1e9 / sec, 3), '—',
        `${fmt(((p1.run_time_ns ?? 0) - (p0.run_time_ns ?? 0)) / Math.max(1, runs), 1)} ns/run`],
    ]);
  table('BPF maps of the agent', ['map', 'type', 'max_entries', 'memlock'],
    maps.sort((x, y) => (y.bytes_memlock ?? 0) - (x.bytes_memlock ?? 0)).map((m) => [m.name, m.type, fmt(m.max_entries ?? 0), `${fmt((m.bytes_memlock ?? 0) / 1024, 1)} KiB`]));
} finally {
  bare.kill();
  const code = await agent.stop();
  await rx.stop();
  if (code !== 0) console.error(`agent exited with ${code}:\n${agent.stderr()}`);
}
