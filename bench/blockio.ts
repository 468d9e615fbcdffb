// blockio + iouring receivers: fio 4k random-read IOPS with and without the agent (alternated
// rounds, medians), BPF time per I/O, agent CPU while exporting every second, map memory, and the
// cost of one collection (map dump → OTLP data) measured in-process.
//   node bench/blockio.ts [rounds=5] [seconds=5] [engines=psync,io_uring,libaio]
// KOTEL_BENCH_PREV_ROOT=/path/to/another/checkout (built) adds that agent to every round, alternated
// with this one, so a change is compared with its predecessor under the same load.
// KOTEL_BENCH_BARE=1 adds an agent whose BPF programs all return at their first instruction
// (bench/bare-hooks.ts): the floor that the hooks alone cost on this machine (=clock, =discard: see there).
// KOTEL_BENCH_TARGET=disk reads a file on the root filesystem's disk (virtio here) instead of the
// default loop device over tmpfs (the fastest device, so the worst case for per-I/O overhead).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startAgent, OtlpReceiver, bpfMapsOf, bpfProgsOf, cpuSecondsPrecise, median, fmt, table, backgroundLoad, machine, sleep, inProcessContext } from './lib.ts';
import { fio, loopDevice } from '../test/e2e/blockio-fio.ts';
import { blockioReceiver } from '../src/receivers/blockio/blockio.ts';
import { iouringReceiver } from '../src/receivers/iouring/iouring.ts';
import { MonotonicClock } from '../src/pipeline/clock.ts';
import { BARE_LABEL, bareKindOf, buildBareHooks } from './bare-hooks.ts';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const only = process.argv[4]?.split(',');
const prevRoot = process.env.KOTEL_BENCH_PREV_ROOT;
const bare = bareKindOf(process.env.KOTEL_BENCH_BARE);

function config(endpoint: string): string {
  return `receivers:
  blockio: {}
  iouring: {}
exporters:
  otlp: { endpoint: ${endpoint}, tls: { insecure: true } }
service:
  pipelines:
    metrics: { receivers: [blockio, iouring], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

const ENGINES: Record<string, string[]> = {
  psync: ['--ioengine=psync'],
  io_uring: ['--ioengine=io_uring', '--iodepth=16'],
  libaio: ['--ioengine=libaio', '--iodepth=16'],
};

const onDisk = process.env.KOTEL_BENCH_TARGET === 'disk';
console.log(`# blockio / iouring benchmark\n\n${machine()}\n${await backgroundLoad()}\nrounds=${rounds}, ${seconds}s per fio run, 4k randread, direct I/O, ${onDisk ? 'a file on the root filesystem (virtio disk)' : 'loop device over a tmpfs file (merges off)'}`);
const loop = onDisk ? { path: '/var/tmp/kotel-blockio-bench.img' } : loopDevice(512);
execFileSync('dd', ['if=/dev/zero', `of=${loop.path}`, 'bs=1M', 'count=256', 'oflag=direct', 'status=none']);
const rx = await OtlpReceiver.start({ httpPort: null });
const fioArgs = (engine: string) => ['--name=bench', `--filename=${loop.path}`, ...ENGINES[engine], '--direct=1', '--rw=randread', '--bs=4k',
  '--size=256M', '--time_based', `--runtime=${seconds}`, '--norandommap', '--randrepeat=0'];

const rows: Array<Array<string | number>> = [];
// Each agent of a round: its label and the environment that makes it.
const AGENTS: Record<string, { label: string; env: Record<string, string> }> = {
  agent: { label: 'this', env: {} },
  ...(prevRoot ? { prev: { label: 'previous', env: { KOTEL_AGENT_ROOT: prevRoot } } } : {}),
  ...(bare ? { bare: { label: BARE_LABEL[bare], env: { KOTEL_BPF_DIR: buildBareHooks(bare) } } } : {}),
};
const agents = Object.keys(AGENTS);
for (const engine of Object.keys(ENGINES).filter((e) => !only || only.includes(e))) {
  const base: number[] = [];
  const per = Object.fromEntries(agents.map((k) => [k, { iops: [] as number[], ratios: [] as number[], cpu: [] as number[], bpfNs: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    // Rotate the order every round so no variant always runs first (or right after another).
    const kinds = ['base', ...agents];
    const order = kinds.map((_, i) => kinds[(i + r) % kinds.length]);
    const got: Record<string, number> = {};
    for (const which of order) {
      if (which === 'base') { got.base = fio(fioArgs(engine)).readIops; base.push(got.base); continue; }
      const agent = await startAgent(config(rx.grpcEndpoint), AGENTS[which].env);
      await sleep(500);
      const pid = agent.child.pid!;
      const progs0 = bpfProgsOf(pid);
      const cpu0 = cpuSecondsPrecise(pid);
      const res = fio(fioArgs(engine));
      const cpu1 = cpuSecondsPrecise(pid);
      const progs1 = bpfProgsOf(pid);
      const runNs = progs1.reduce((n, p) => n + (p.run_time_ns ?? 0), 0) - progs0.reduce((n, p) => n + (p.run_time_ns ?? 0), 0);
      got[which] = res.readIops;
      per[which].iops.push(res.readIops);
      per[which].cpu.push((100 * (cpu1 - cpu0)) / seconds);
      per[which].bpfNs.push(runNs / Math.max(1, res.readIos));
      if (r === 0 && which === 'agent' && engine === (only?.[0] ?? 'psync')) {
        const maps = bpfMapsOf(pid);
        const total = maps.reduce((n, m) => n + (m.bytes_memlock ?? 0), 0);
        table('BPF maps held by the agent (blockio + iouring, default settings)', ['map', 'type', 'max entries', 'memlock KiB'],
          [...maps.map((m) => [m.name, m.type, m.max_entries ?? '', fmt((m.bytes_memlock ?? 0) / 1024)]), ['total', '', '', fmt(total / 1024)]]);
      }
      await agent.stop();
    }
    for (const k of agents) per[k].ratios.push(got[k] / got.base);
  }
  for (const k of agents) {
    const p = per[k];
    rows.push([`${engine}${agents.length > 1 ? ` (${AGENTS[k].label})` : ''}`, fmt(median(base)), fmt(median(p.iops)), median(p.ratios).toFixed(3),
      `${Math.min(...p.ratios).toFixed(3)}–${Math.max(...p.ratios).toFixed(3)}`, fmt(median(p.bpfNs)), median(p.cpu).toFixed(2)]);
  }
}
table('fio 4k random reads: IOPS without / with the agent (medians)', ['engine', 'IOPS base', 'IOPS agent', 'ratio', 'ratio range', 'BPF ns/IO', 'agent CPU % of a core'], rows);

// Cost of one collection with populated maps, in-process (the agent does this once per export interval).
const collectRows: Array<Array<string | number>> = [];
for (const factory of [blockioReceiver, iouringReceiver]) {
  const rcv = (factory as typeof blockioReceiver).create(inProcessContext(factory.type));
  await rcv.start();
  fio(['--name=fill', `--filename=${loop.path}`, '--ioengine=io_uring', '--direct=1', '--rw=randrw', '--bs=4k', '--size=64M', '--number_ios=20000', '--thread']);
  const n = 200;
  let series = 0;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) series = rcv.collectMetrics!(new MonotonicClock().now()).reduce((s, rm) => s + rm.scopeMetrics[0].metrics.reduce((m, md) => m + md.dataPoints.length, 0), 0);
  const wall = (performance.now() - w0) / n;
  const c = process.cpuUsage(t0);
  await rcv.shutdown();
  collectRows.push([factory.type, series, (wall * 1000).toFixed(0), (((c.user + c.system) / n)).toFixed(0)]);
}
table('One collection (map dump + OTLP data points), in-process', ['receiver', 'data points', 'wall µs', 'CPU µs'], collectRows);

await rx.stop();
if ('detach' in loop) loop.detach(); else rmSync(loop.path, { force: true });
