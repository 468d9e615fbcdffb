// tcp + process receivers: loopback connection churn (connects/s) with and without the agent
// (alternated rounds, medians, ratio), the agent's CPU and RSS during the churn, and the process
// table's cache hit rate from the agent's own kotel.process_cache.* metrics received over OTLP.
//   node bench/tcp-churn.ts [rounds=5] [seconds=5] [client_threads=2]
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { startAgent, OtlpReceiver, cpuSecondsPrecise, statusKb, median, fmt, table, backgroundLoad, machine, scratchDir, selfMetric, sleep } from './lib.ts';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const threads = Number(process.argv[4] ?? 2);

const binary = join(scratchDir(), 'churn');
execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, new URL('./fixtures/churn.c', import.meta.url).pathname]);

function config(endpoint: string): string {
  return `receivers:
  tcp: {}
  process: {}
exporters:
  otlp: { endpoint: ${endpoint}, tls: { insecure: true } }
service:
  pipelines:
    metrics: { receivers: [tcp, process], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

let port = 0;
async function churn(): Promise<number> {
  const child = spawn(binary, ['client', String(port), String(seconds), String(threads)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  await once(child, 'exit');
  const [n, ns] = out.trim().split(' ').map(Number);
  return n / (ns / 1e9);
}

console.log(`# tcp connection churn benchmark\n\n${machine()}\n${await backgroundLoad()}\nrounds=${rounds}, ${seconds}s of churn per run, ${threads} client threads (connect + close, 250 loopback peers), 2 server threads (accept + close); agent: tcp + process receivers, metrics every 1s`);
const server = spawn(binary, ['server', '0', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(server.stdout!, 'data') as [Buffer];
port = Number(/listening (\d+)/.exec(line.toString())?.[1]);
if (!port) throw new Error(`churn server did not start: ${line}`);
const rx = await OtlpReceiver.start({ httpPort: null });

const base: number[] = [], withAgent: number[] = [], ratios: number[] = [], cpu: number[] = [], rss: number[] = [], hwm: number[] = [];
const hitRates: number[] = [], lookups: number[] = [], cacheSize: number[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['base', 'agent'] : ['agent', 'base'];
  let b = 0, a = 0;
  for (const which of order) {
    if (which === 'base') { b = await churn(); base.push(b); continue; }
    rx.clear();
    const agent = await startAgent(config(rx.grpcEndpoint));
    await sleep(500);
    const pid = agent.child.pid!;
    const cpu0 = cpuSecondsPrecise(pid);
    a = await churn();
    const cpu1 = cpuSecondsPrecise(pid);
    withAgent.push(a);
    cpu.push((100 * (cpu1 - cpu0)) / seconds);
    rss.push(statusKb(pid, 'VmRSS') / 1024);
    hwm.push(statusKb(pid, 'VmHWM') / 1024);
    // The agent's own metrics after the churn: wait for an export that follows it.
    const before = selfMetric(rx, 'kotel.process_cache.hits') + selfMetric(rx, 'kotel.process_cache.misses');
    await rx.waitFor(() => selfMetric(rx, 'kotel.process_cache.hits') + selfMetric(rx, 'kotel.process_cache.misses') > before, { timeoutMs: 5000, what: 'process cache self metrics' }).catch(() => undefined);
    const hits = selfMetric(rx, 'kotel.process_cache.hits'), misses = selfMetric(rx, 'kotel.process_cache.misses');
    hitRates.push(hits / Math.max(1, hits + misses));
    lookups.push(hits + misses);
    cacheSize.push(selfMetric(rx, 'kotel.process_cache.size'));
    await agent.stop();
  }
  ratios.push(a / b);
}
server.kill();
await rx.stop();

table('Loopback connection churn: connects/s without / with the agent (medians)', ['workload', 'connects/s base', 'connects/s agent', 'ratio', 'ratio range', 'agent CPU % of a core'],
  [[`${threads} client threads`, fmt(median(base)), fmt(median(withAgent)), median(ratios).toFixed(3), `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`, median(cpu).toFixed(1)]]);
table('Agent process table and memory (medians over the agent runs; cache figures from kotel.process_cache.* over OTLP)',
  ['figure', 'value'],
  [['process cache hit rate', `${(100 * median(hitRates)).toFixed(1)} %`], ['process cache lookups per run', fmt(median(lookups))], ['process cache size', fmt(median(cacheSize))],
    ['agent RSS after the churn', `${median(rss).toFixed(1)} MiB`], ['agent peak RSS (VmHWM)', `${median(hwm).toFixed(1)} MiB`]]);
