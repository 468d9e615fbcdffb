// HTTP receiver overhead: nginx serving a 1 KB file on loopback under wrk (-t1 -c16), with the
// agent attached vs without, alternated round by round; medians and ratio. Also: BPF run time
// per request (kernel program stats), completeness (spans exported vs nginx's access log).
// Run: node bench/http-overhead.ts [rounds=5] [seconds=5] [traces|metrics] [sampler_arg]
//   traces: every exchange exported as a span (the default); metrics: duration histograms only
//   (the same kernel capture and records, no span export) to separate kernel from exporter cost.
//   sampler_arg (traces): service.traces traceidratio with that ratio (e.g. 0.1).
// Spans go to otlp-count-sink.ts in its own process (it counts spans per executable without decoding
// them, as a collector elsewhere would cost nothing here; its CPU is reported apart from the agent's); SINK=decode sends them to the in-process
// test OtlpReceiver instead, which decodes every span with protobufjs (~30 µs of CPU per span on
// the same 2 cores: that is how the first figures in BENCHMARKS.md were taken); SINK=otelcol sends them to a
// real OpenTelemetry Collector (the test suite's build), the peer a deployment has. Before each measured
// round the new agent gets WARMUP seconds (default 2) of the same load, unmeasured (JIT warm-up).
//   KOTEL_BENCH_HOOKS=sock,syscalls: one agent run per capture path in every round (the http
//   receiver's `hooks` setting; default auto), alternated with the baseline, rotating the order.
//   KOTEL_BENCH_AGENT_FLAGS="; --max-semi-space-size=4; KOTEL_HEAP_HEADROOM_MB=0": the same for sets of node
//   flags (NODE_OPTIONS) and NAME=value environment variables given to the agent process (the empty set is
//   the agent as shipped), crossed with the hooks.
//   KOTEL_BENCH_SPAN_EXPORTERS=otlp,otlphttp: spans over OTLP/gRPC (default) and/or OTLP/HTTP protobuf,
//   crossed with the above (the count sink takes both).
//   KOTEL_BENCH_BATCH="{}; timeout: 1s, send_batch_size: 512": batch processor settings of the traces pipeline
//   ({}, the default: the shipped default, 8192 spans or 200 ms), crossed with the above.
//   KOTEL_BENCH_HTTP="; client: false": sets of extra http receiver settings (the empty set: both sides,
//   every port), crossed with the above. Completeness stays nginx's server spans / requests (SINK=otelcol
//   counts all spans ÷ 2, so it reads 0.5 with client: false).
//   KOTEL_BENCH_BARE=1: one more agent in every round whose BPF programs all return at their first
//   instruction (bench/bare-hooks.ts): the floor that the hooks alone cost on this machine (=clock, =discard: see there).
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, startAgent, bpfProgsOf, cpuSecondsPrecise, median, fmt, table, sleep, machine, parseWrk } from './lib.ts';
import { startNginx } from '../test/e2e/http-fixtures/helpers.ts';
import { startSink } from './http-fixtures/sink-process.ts';
import { startOtelcolSink } from './http-fixtures/otelcol-sink.ts';
import { BARE_LABEL, bareKindOf, buildBareHooks } from './bare-hooks.ts';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const mode = process.argv[4] === 'metrics' ? 'metrics' : 'traces';
const samplerArg = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
const decodeSink = process.env.SINK === 'decode';
// SINK=otelcol: a real Collector takes the spans (debug exporter, basic); it counts spans, not their
// processes, so completeness is taken as (all spans) / 2 (nginx's server span and wrk's client span).
const otelcolSink = process.env.SINK === 'otelcol';
// WARMUP=seconds of wrk against the freshly started agent before each measured round (default 2; 0: none).
const WARMUP_S = Number(process.env.WARMUP ?? 2);

// BPF_STATS=1: the kernel's run-time statistics on, to report BPF ns/request (they slow every hook run).
const BPF_STATS = process.env.BPF_STATS === '1';
const HOOKS = (process.env.KOTEL_BENCH_HOOKS ?? 'auto').split(',');
const FLAGS = (process.env.KOTEL_BENCH_AGENT_FLAGS ?? '').split(';').map((f) => f.trim());
const EXPORTERS = (process.env.KOTEL_BENCH_SPAN_EXPORTERS ?? 'otlp').split(',');
const SELECTIONS = (process.env.KOTEL_BENCH_HTTP ?? '').split(';').map((s) => s.trim());
const BATCHES = (process.env.KOTEL_BENCH_BATCH ?? '{}').split(';').map((s) => s.trim());
interface Variant { hooks: string; http: string; batch: string; flags: string; exporter: string; label: string; bare?: boolean }
const VARIANTS: Variant[] = HOOKS.flatMap((hooks) => SELECTIONS.flatMap((http) => BATCHES.flatMap((batch) => FLAGS.flatMap((flags) => EXPORTERS.map((exporter) => ({
  hooks, http, batch, flags, exporter,
  label: [hooks, http, BATCHES.length > 1 && `batch ${batch}`, flags && `agent ${flags}`, exporter !== 'otlp' && `spans via ${exporter}`].filter(Boolean).join(', '),
}))))));
const bare = bareKindOf(process.env.KOTEL_BENCH_BARE);
if (bare) VARIANTS.push({ hooks: 'auto', http: '', batch: '{}', flags: `KOTEL_BPF_DIR=${buildBareHooks(bare)}`, exporter: 'otlp', label: `auto, ${BARE_LABEL[bare]}`, bare: true });
// KOTEL_BENCH_QUEUE=items: the span exporter's sending queue (default: the shipped default).
const QUEUE = process.env.KOTEL_BENCH_QUEUE;
// Spans go to a collector on the same host, as deploy/ configures it: no compression (COMPRESSION=gzip to compare).
const COMPRESSION = process.env.COMPRESSION ?? 'none';

function config(endpoint: string, spansEndpoint: string, hooks: string, http: string, batch: string, exporter = 'otlp'): string {
  return `receivers:
  http: { hooks: ${hooks}${http ? `, ${http}` : ''} }
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
  ${exporter}/spans:
    endpoint: ${spansEndpoint}
    tls: { insecure: true }
    compression: ${COMPRESSION}${QUEUE ? `\n    sending_queue: { queue_size: ${QUEUE} }` : ''}
processors:
  batch: ${batch === '{}' ? '{}' : `{ ${batch} }`}
service:
  pipelines:
${mode === 'traces' ? `    traces: { receivers: [http], processors: [batch], exporters: [${exporter}/spans] }\n` : ''}    metrics: { receivers: [http], exporters: [otlp] }
${samplerArg === undefined ? '' : `  traces: { sampler: traceidratio, sampler_arg: ${samplerArg} }\n`}
  telemetry:
    metrics: { interval: 5s${BPF_STATS ? ', bpf_run_time: true' : ''} }
`;
}

function wrk(url: string, secs = seconds): { rps: number; p99ms: number; requests: number } {
  return parseWrk(execFileSync('wrk', ['-t1', '-c16', `-d${secs}s`, '--latency', url], { encoding: 'utf8' }));
}

const nginx = await startNginx();
const url = `http://127.0.0.1:${nginx.port}/1k.txt`;
const rx = await OtlpReceiver.start({ httpPort: null });
const sink = decodeSink ? undefined : otelcolSink ? await startOtelcolSink() : await startSink();
const spansEndpoint = sink?.endpoint ?? rx.grpcEndpoint;
/** nginx's server spans received so far. */
async function nginxSpans(): Promise<number> {
  if (sink && otelcolSink) return Math.floor((await sink.counts()).total / 2);
  if (sink) return (await sink.counts()).byKey.nginx ?? 0;
  return rx.spans().filter((s) => s.kind === 2 && s.resource['process.executable.name'] === 'nginx').length;
}
interface Run { rps: number; p99ms: number; ratio: number; nsPerReq: number; runsPerReq: number; completeness: number; agentUsPerReq: number; sinkUsPerReq: number }
const base: Array<{ rps: number; p99ms: number }> = [];
const runs = new Map<string, Run[]>(VARIANTS.map((v) => [v.label, []]));

/** "--flag NAME=value": NAME=value words become environment variables, the rest NODE_OPTIONS. */
function agentEnv(flags: string): Record<string, string> {
  const words = flags.split(/\s+/).filter(Boolean);
  const env = Object.fromEntries(words.filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  const node = words.filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)).join(' ');
  return node ? { ...env, NODE_OPTIONS: node } : env;
}

async function withAgent({ hooks, http, batch, flags, exporter, bare }: Variant, baseRps: number): Promise<Run> {
  // Bare programs report nothing: no span to wait for.
  const spansExpected = mode === 'traces' && samplerArg === undefined && !bare;
  const endpoint = exporter === 'otlphttp' ? sink?.httpEndpoint : spansEndpoint;
  if (!endpoint) throw new Error(`no ${exporter} endpoint for spans (SINK=decode takes OTLP/gRPC only)`);
  const agent = await startAgent(config(rx.grpcEndpoint, endpoint, hooks, http, batch, exporter), agentEnv(flags));
  if (WARMUP_S > 0) {
    // A running agent is warm: compile its hot paths (JIT) before measuring, and let that traffic drain.
    const logAtWarmup = nginx.accessLog().length;
    const spansAtWarmup = await nginxSpans();
    wrk(url, WARMUP_S);
    const warmRequests = nginx.accessLog().length - logAtWarmup;
    const until = Date.now() + 30_000;
    while (spansExpected && (await nginxSpans()) - spansAtWarmup < warmRequests && Date.now() < until) await sleep(100);
    await sleep(300);
  }
  const pid = agent.child.pid!;
  const spansBefore = await nginxSpans();
  const logBefore = nginx.accessLog().length;
  const progs0 = bpfProgsOf(pid);
  const cpu0 = cpuSecondsPrecise(pid);
  // The span sink shares the 2 cores too: its CPU is part of what the agent's rounds lose, not the agent's.
  const sinkPid = sink?.child.pid;
  const sinkCpu0 = sinkPid ? cpuSecondsPrecise(sinkPid) : 0;
  const w = wrk(url);
  const progs1 = bpfProgsOf(pid);
  const served = nginx.accessLog().length - logBefore;
  const ns = progs1.reduce((n, p) => n + (p.run_time_ns ?? 0), 0) - progs0.reduce((n, p) => n + (p.run_time_ns ?? 0), 0);
  const count = progs1.reduce((n, p) => n + (p.run_cnt ?? 0), 0) - progs0.reduce((n, p) => n + (p.run_cnt ?? 0), 0);
  const deadline = Date.now() + (mode === 'traces' && !bare ? 60_000 : 0);
  let got = 0;
  while (Date.now() < deadline) {
    got = (await nginxSpans()) - spansBefore;
    if (got >= served) break;
    if (samplerArg !== undefined) { await sleep(1500); got = (await nginxSpans()) - spansBefore; break; }  // a fraction: no exact target
    await sleep(250);
  }
  // Until every span of the round is exported: the export work of the round's spans is all counted.
  const agentCpu = cpuSecondsPrecise(pid) - cpu0;
  const sinkCpu = sinkPid ? cpuSecondsPrecise(sinkPid) - sinkCpu0 : NaN;
  await agent.stop();
  rx.clear();
  return {
    rps: w.rps, p99ms: w.p99ms, ratio: w.rps / baseRps,
    nsPerReq: count > 0 && ns > 0 ? ns / served : NaN,   // NaN (printed "—"): statistics off
    runsPerReq: count > 0 ? count / served : NaN,
    completeness: got / served,
    agentUsPerReq: agentCpu * 1e6 / served,
    sinkUsPerReq: sinkCpu * 1e6 / served,
  };
}

wrk(url); // warm-up
for (let r = 0; r < rounds; r++) {
  base.push(wrk(url));
  const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);   // rotate: no variant always runs first
  for (const variant of order) {
    const run = await withAgent(variant, base[r].rps);
    const label = variant.label;
    runs.get(label)!.push(run);
    console.error(`round ${r + 1}: base ${fmt(base[r].rps)} req/s, hooks ${label} ${fmt(run.rps)} req/s (ratio ${fmt(run.ratio, 3)}), ${fmt(run.nsPerReq)} BPF ns/req, spans/served ${fmt(run.completeness, 4)}, agent ${fmt(run.agentUsPerReq, 2)} µs CPU/req, sink ${fmt(run.sinkUsPerReq, 2)} µs CPU/req`);
  }
}
await nginx.stop();
await rx.stop();
sink?.stop();

const b = median(base.map((x) => x.rps));
const bp99 = median(base.map((x) => x.p99ms));
const range = (xs: number[], d: number) => `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}`;
table(`http receiver overhead (${mode}${samplerArg === undefined ? '' : `, traceidratio ${samplerArg}`}; agent warm-up ${WARMUP_S} s; spans into ${decodeSink ? 'the in-process protobufjs receiver' : otelcolSink ? 'an OpenTelemetry Collector (debug exporter; spans/requests = all spans ÷ 2)' : 'the count sink process'}, compression ${COMPRESSION}) — nginx 1 KB file, wrk -t1 -c16 -d${seconds}s, ${rounds} alternated rounds, medians (${machine()})`,
  ['', 'req/s', 'p99 latency', 'ratio (median, range of rounds)', 'BPF ns/request', 'BPF runs/request', 'agent process µs CPU/request (until its spans are exported)', 'span sink µs CPU/request', 'spans/requests'],
  [
    ['without agent', fmt(b), `${fmt(bp99, 2)} ms`, '—', '—', '—', '—', '—', '—'],
    ...[...runs].map(([hooks, rs]) => [
      `with agent, hooks: ${hooks}`, fmt(median(rs.map((x) => x.rps))), `${fmt(median(rs.map((x) => x.p99ms)), 2)} ms`,
      `${fmt(median(rs.map((x) => x.ratio)), 3)} (${range(rs.map((x) => x.ratio), 3)})`,
      fmt(median(rs.map((x) => x.nsPerReq))), fmt(median(rs.map((x) => x.runsPerReq)), 1),
      fmt(median(rs.map((x) => x.agentUsPerReq)), 2), fmt(median(rs.map((x) => x.sinkUsPerReq)), 2), fmt(median(rs.map((x) => x.completeness)), 4),
    ]),
  ]);
process.exit(0);
