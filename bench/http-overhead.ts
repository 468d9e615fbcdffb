// HTTP receiver overhead: nginx serving a 1 KB file on loopback under wrk (-t1 -c16), with the
// agent attached vs without, alternated round by round; medians and ratio. Also: BPF run time
// per request (kernel program stats), completeness (spans exported vs nginx's access log).
// Run: node bench/http-overhead.ts [rounds=5] [seconds=5] [traces|metrics] [sampler_arg]
//   traces: every exchange exported as a span (the default); metrics: duration histograms only
//   (the same kernel capture and records, no span export) to separate kernel from exporter cost.
//   sampler_arg (traces): service.traces traceidratio with that ratio (e.g. 0.1).
// Spans go to otlp-count-sink.ts in its own process (it counts spans per executable and kind,
// cheaply, as a collector elsewhere would cost nothing here); SINK=decode sends them to the in-process
// test OtlpReceiver instead, which decodes every span with protobufjs (~30 µs of CPU per span on
// the same 2 cores: that is how the first figures in BENCHMARKS.md were taken). Before each measured
// round the new agent gets WARMUP seconds (default 2) of the same load, unmeasured (JIT warm-up).
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, startAgent, bpfProgsOf, cpuSecondsPrecise, median, fmt, table, sleep, machine } from './lib.ts';
import { startNginx } from '../test/e2e/http-fixtures/helpers.ts';
import { startSink } from './http-fixtures/sink-process.ts';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const mode = process.argv[4] === 'metrics' ? 'metrics' : 'traces';
const samplerArg = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
const decodeSink = process.env.SINK === 'decode';
// WARMUP=seconds of wrk against the freshly started agent before each measured round (default 2; 0: none).
const WARMUP_S = Number(process.env.WARMUP ?? 2);

// BPF_STATS=1: the kernel's run-time statistics on, to report BPF ns/request (they slow every hook run).
const BPF_STATS = process.env.BPF_STATS === '1';

function config(endpoint: string, spansEndpoint: string): string {
  return `receivers:
  http: {}
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
    sending_queue: { queue_size: 1000000 }
  otlp/spans:
    endpoint: ${spansEndpoint}
    tls: { insecure: true }
    sending_queue: { queue_size: 1000000 }
processors:
  batch: { timeout: 200ms, send_batch_size: 8192, send_batch_max_size: 16384 }
service:
  pipelines:
${mode === 'traces' ? '    traces: { receivers: [http], processors: [batch], exporters: [otlp/spans] }\n' : ''}    metrics: { receivers: [http], exporters: [otlp] }
${samplerArg === undefined ? '' : `  traces: { sampler: traceidratio, sampler_arg: ${samplerArg} }\n`}
  telemetry:
    metrics: { interval: 5s${BPF_STATS ? ', bpf_run_time: true' : ''} }
`;
}

function wrk(url: string, secs = seconds): { rps: number; p99ms: number; requests: number } {
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${secs}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out)!;
  const p99ms = Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
  return { rps, p99ms, requests };
}

const nginx = await startNginx();
const url = `http://127.0.0.1:${nginx.port}/1k.txt`;
const rx = await OtlpReceiver.start({ httpPort: null });
const sink = decodeSink ? undefined : await startSink();
const spansEndpoint = sink?.endpoint ?? rx.grpcEndpoint;
/** nginx's server spans received so far. */
async function nginxSpans(): Promise<number> {
  if (sink) return (await sink.counts()).byKey['nginx 2'] ?? 0;
  return rx.spans().filter((s) => s.kind === 2 && s.resource['process.executable.name'] === 'nginx').length;
}
const base: Array<{ rps: number; p99ms: number }> = [];
const withAgent: Array<{ rps: number; p99ms: number }> = [];
const nsPerReq: number[] = [];
const runsPerReq: number[] = [];
const completeness: number[] = [];
const agentUsPerReq: number[] = [];
wrk(url); // warm-up
for (let r = 0; r < rounds; r++) {
  base.push(wrk(url));
  const agent = await startAgent(config(rx.grpcEndpoint, spansEndpoint));
  if (WARMUP_S > 0) {
    // A running agent is warm: compile its hot paths (JIT) before measuring, and let that traffic drain.
    const logAtWarmup = nginx.accessLog().length;
    const spansAtWarmup = await nginxSpans();
    wrk(url, WARMUP_S);
    const warmRequests = nginx.accessLog().length - logAtWarmup;
    const until = Date.now() + 30_000;
    while (mode === 'traces' && samplerArg === undefined && (await nginxSpans()) - spansAtWarmup < warmRequests && Date.now() < until) await sleep(100);
    await sleep(300);
  }
  const pid = agent.child.pid!;
  const spansBefore = await nginxSpans();
  const logBefore = nginx.accessLog().length;
  const progs0 = bpfProgsOf(pid);
  const cpu0 = cpuSecondsPrecise(pid);
  const w = wrk(url);
  const progs1 = bpfProgsOf(pid);
  withAgent.push(w);
  const served = nginx.accessLog().length - logBefore;
  const ns = progs1.reduce((a, p) => a + (p.run_time_ns ?? 0), 0) - progs0.reduce((a, p) => a + (p.run_time_ns ?? 0), 0);
  const runs = progs1.reduce((a, p) => a + (p.run_cnt ?? 0), 0) - progs0.reduce((a, p) => a + (p.run_cnt ?? 0), 0);
  nsPerReq.push(runs > 0 && ns > 0 ? ns / served : NaN);  // NaN (printed "—"): statistics off
  runsPerReq.push(runs > 0 ? runs / served : NaN);
  const deadline = Date.now() + (mode === 'traces' ? 60_000 : 0);
  let got = 0;
  while (Date.now() < deadline) {
    got = (await nginxSpans()) - spansBefore;
    if (got >= served) break;
    if (samplerArg !== undefined) { await sleep(1500); got = (await nginxSpans()) - spansBefore; break; }  // a fraction: no exact target
    await sleep(250);
  }
  // Until every span of the round is exported: the export work of the round's spans is all counted.
  const agentCpu = cpuSecondsPrecise(pid) - cpu0;
  completeness.push(got / served);
  agentUsPerReq.push(agentCpu * 1e6 / served);
  await agent.stop();
  rx.clear();
  console.error(`round ${r + 1}: base ${fmt(base[r].rps)} req/s, agent ${fmt(w.rps)} req/s (ratio ${fmt(w.rps / base[r].rps, 3)}), ${fmt(ns / served)} BPF ns/req, spans ${got}/${served}, agent ${fmt(agentCpu * 1e6 / served, 2)} µs CPU/req`);
}
await nginx.stop();
await rx.stop();
sink?.stop();

console.error(`round ratios: ${base.map((x, i) => fmt(withAgent[i].rps / x.rps, 3)).join(', ')}`);
const b = median(base.map((x) => x.rps)), a = median(withAgent.map((x) => x.rps));
table(`http receiver overhead (${mode}${samplerArg === undefined ? '' : `, traceidratio ${samplerArg}`}; agent warm-up ${WARMUP_S} s; spans into ${decodeSink ? 'the in-process protobufjs receiver' : 'the count sink process'}) — nginx 1 KB file, wrk -t1 -c16 -d${seconds}s, ${rounds} alternated rounds, medians (${machine()})`,
  ['', 'req/s', 'p99 latency', 'BPF ns/request', 'BPF runs/request', 'agent process µs CPU/request (until its spans are exported)', 'spans/requests'],
  [
    ['without agent', fmt(b), `${fmt(median(base.map((x) => x.p99ms)), 2)} ms`, '—', '—', '—', '—'],
    ['with agent', fmt(a), `${fmt(median(withAgent.map((x) => x.p99ms)), 2)} ms`, fmt(median(nsPerReq)), fmt(median(runsPerReq), 1), fmt(median(agentUsPerReq), 2), fmt(median(completeness), 4)],
    ['ratio', fmt(a / b, 3), fmt(median(withAgent.map((x) => x.p99ms)) / median(base.map((x) => x.p99ms)), 2), '', '', '', ''],
  ]);
process.exit(0);
