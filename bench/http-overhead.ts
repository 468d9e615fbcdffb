// HTTP receiver overhead: nginx serving a 1 KB file on loopback under wrk (-t1 -c16), with the
// agent attached vs without, alternated round by round; medians and ratio. Also: BPF run time
// per request (kernel program stats), completeness (spans exported vs nginx's access log).
// Run: node bench/http-overhead.ts [rounds=5] [seconds=5] [traces|metrics]
//   traces: every exchange exported as a span (the default); metrics: duration histograms only
//   (the same kernel capture and records, no span export) to separate kernel from exporter cost.
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, startAgent, bpfProgsOf, median, fmt, table, sleep, machine } from './lib.ts';
import { startNginx } from '../test/e2e/http-fixtures/helpers.ts';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const mode = process.argv[4] === 'metrics' ? 'metrics' : 'traces';

// BPF_STATS=1: the kernel's run-time statistics on, to report BPF ns/request (they slow every hook run).
const BPF_STATS = process.env.BPF_STATS === '1';

function config(endpoint: string): string {
  return `receivers:
  http: {}
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
    sending_queue: { queue_size: 1000000 }
processors:
  batch: { timeout: 200ms, send_batch_size: 8192, send_batch_max_size: 16384 }
service:
  pipelines:
${mode === 'traces' ? '    traces: { receivers: [http], processors: [batch], exporters: [otlp] }\n' : ''}    metrics: { receivers: [http], exporters: [otlp] }
  telemetry:
    metrics: { interval: 5s${BPF_STATS ? ', bpf_run_time: true' : ''} }
`;
}

function wrk(url: string): { rps: number; p99ms: number; requests: number } {
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out)!;
  const p99ms = Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
  return { rps, p99ms, requests };
}

const nginx = await startNginx();
const url = `http://127.0.0.1:${nginx.port}/1k.txt`;
const rx = await OtlpReceiver.start({ httpPort: null });
const base: Array<{ rps: number; p99ms: number }> = [];
const withAgent: Array<{ rps: number; p99ms: number }> = [];
const nsPerReq: number[] = [];
const runsPerReq: number[] = [];
const completeness: number[] = [];
wrk(url); // warm-up
for (let r = 0; r < rounds; r++) {
  base.push(wrk(url));
  const agent = await startAgent(config(rx.grpcEndpoint));
  const pid = agent.child.pid!;
  const spansBefore = rx.spans().filter((s) => s.kind === 2 && s.resource['process.executable.name'] === 'nginx').length;
  const logBefore = nginx.accessLog().length;
  const progs0 = bpfProgsOf(pid);
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
    got = rx.spans().filter((s) => s.kind === 2 && s.resource['process.executable.name'] === 'nginx').length - spansBefore;
    if (got >= served) break;
    await sleep(250);
  }
  completeness.push(got / served);
  await agent.stop();
  rx.clear();
  console.error(`round ${r + 1}: base ${fmt(base[r].rps)} req/s, agent ${fmt(w.rps)} req/s (ratio ${fmt(w.rps / base[r].rps, 3)}), ${fmt(ns / served)} BPF ns/req, spans ${got}/${served}`);
}
await nginx.stop();
await rx.stop();

const b = median(base.map((x) => x.rps)), a = median(withAgent.map((x) => x.rps));
table(`http receiver overhead (${mode}) — nginx 1 KB file, wrk -t1 -c16 -d${seconds}s, ${rounds} alternated rounds, medians (${machine()})`,
  ['', 'req/s', 'p99 latency', 'BPF ns/request', 'BPF runs/request', 'spans/requests'],
  [
    ['without agent', fmt(b), `${fmt(median(base.map((x) => x.p99ms)), 2)} ms`, '—', '—', '—'],
    ['with agent', fmt(a), `${fmt(median(withAgent.map((x) => x.p99ms)), 2)} ms`, fmt(median(nsPerReq)), fmt(median(runsPerReq), 1), fmt(median(completeness), 4)],
    ['ratio', fmt(a / b, 3), fmt(median(withAgent.map((x) => x.p99ms)) / median(base.map((x) => x.p99ms)), 2), '', '', ''],
  ]);
process.exit(0);
