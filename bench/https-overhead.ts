// HTTPS capture overhead (OpenSSL uprobes): wrk over keep-alive TLS against nginx (libssl.so.3)
// or a node 24 HTTPS server (OpenSSL inside node) serving 1 KB, three alternated conditions per
// round: no agent, the agent with tls.enabled false (socket hooks only: the encrypted bytes), and
// the agent with TLS capture. wrk links libssl.so.3 too, so both sides are probed, as in the
// plain-HTTP benchmark. Medians, ratios, BPF ns/request (BPF_STATS=1), completeness, and the CPU
// the server and wrk spend per request (uprobe traps are charged to the probed processes; CPU per
// request stays meaningful when other work on the machine makes throughput drift).
// Run: node bench/https-overhead.ts [rounds=5] [seconds=5] [nginx|node] [traces|metrics]
//   metrics: duration histograms only (same kernel capture and records, no span export).
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, startAgent, bpfProgsOf, cpuSecondsPrecise, median, fmt, table, sleep, machine, parseWrk } from './lib.ts';
import { selfSignedCert, startNginxTls, startNodeHttpsServer } from '../test/e2e/http-fixtures/tls.ts';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const target = process.argv[4] === 'node' ? 'node' : 'nginx';
const mode = process.argv[5] === 'metrics' ? 'metrics' : 'traces';
const BPF_STATS = process.env.BPF_STATS === '1';

function config(endpoint: string, tls: boolean): string {
  return `receivers:
  http: { tls: { enabled: ${tls} } }
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

/** wrk, plus the CPU it used (the shell's children times after waiting for it). */
function wrk(url: string): { rps: number; p99ms: number; requests: number; cpu: number } {
  const out = execFileSync('sh', ['-c', `wrk -t1 -c16 -d${seconds}s --latency ${url}; cat /proc/$$/stat`], { encoding: 'utf8' });
  const stat = out.trim().split('\n').pop()!;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ...parseWrk(out), cpu: (Number(f[13]) + Number(f[14])) / CLK_TCK };
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** wrk with the server's CPU: µs of server + wrk CPU per request. */
function measure(url: string) {
  const c0 = cpuSecondsPrecise(serverPid);
  const w = wrk(url);
  const cpuUs = ((cpuSecondsPrecise(serverPid) - c0) + w.cpu) * 1e6 / w.requests;
  return { ...w, cpuUs };
}

const server = target === 'nginx' ? await startNginxTls() : await startNodeHttpsServer(selfSignedCert());
const serverPid = target === 'nginx' ? (server as Awaited<ReturnType<typeof startNginxTls>>).workerPid() : (server as { pid: number }).pid;
const url = `https://127.0.0.1:${server.port}/${target === 'nginx' ? '1k.txt' : 'x'}`;
const rx = await OtlpReceiver.start({ httpPort: null });
const serverSpans = () => rx.spans().filter((s) => s.kind === 2 && s.resource['process.pid'] === serverPid && s.attributes['url.scheme'] === 'https').length;

interface Run { rps: number; p99ms: number; nsPerReq: number; spans: number; cpuUs: number }
const runs: Record<'base' | 'sock' | 'tls', Run[]> = { base: [], sock: [], tls: [] };

async function withAgent(tls: boolean): Promise<Run> {
  const agent = await startAgent(config(rx.grpcEndpoint, tls));
  const pid = agent.child.pid!;
  const before = serverSpans();
  const p0 = bpfProgsOf(pid);
  const w = measure(url);
  const p1 = bpfProgsOf(pid);
  const ns = p1.reduce((a, p) => a + (p.run_time_ns ?? 0), 0) - p0.reduce((a, p) => a + (p.run_time_ns ?? 0), 0);
  let got = 0;
  const deadline = Date.now() + (tls && mode === 'traces' ? 60_000 : 0);
  do {
    got = serverSpans() - before;
    if (got >= w.requests) break;
    await sleep(250);
  } while (Date.now() < deadline);
  await agent.stop();
  rx.clear();
  return { rps: w.rps, p99ms: w.p99ms, nsPerReq: ns > 0 ? ns / w.requests : NaN, spans: mode === 'traces' ? got / w.requests : NaN, cpuUs: w.cpuUs };
}

wrk(url); // warm-up
for (let r = 0; r < rounds; r++) {
  const b = measure(url);
  runs.base.push({ ...b, nsPerReq: NaN, spans: NaN });
  runs.sock.push(await withAgent(false));
  runs.tls.push(await withAgent(true));
  const [s, t] = [runs.sock[r], runs.tls[r]];
  console.error(`round ${r + 1}: base ${fmt(b.rps)} req/s ${fmt(b.cpuUs, 1)} µs CPU/req, socket hooks only ${fmt(s.rps)} (${fmt(s.rps / b.rps, 3)}) ${fmt(s.cpuUs, 1)} µs, TLS capture ${fmt(t.rps)} (${fmt(t.rps / b.rps, 3)}) ${fmt(t.cpuUs, 1)} µs, ${fmt(t.nsPerReq)} BPF ns/req, spans/requests ${fmt(t.spans, 4)}`);
}
await server.stop();
await rx.stop();

const med = (k: keyof typeof runs, f: keyof Run) => median(runs[k].map((x) => x[f]));
// Ratios per round (each against the baseline measured just before it), then their median: the
// machine is shared, so throughput drifts between rounds more than within one.
const ratio = (k: keyof typeof runs) => median(runs[k].map((x, i) => x.rps / runs.base[i].rps));
const b = med('base', 'rps');
table(`HTTPS capture overhead (${mode}) — ${target} 1 KB over TLS (keep-alive), wrk -t1 -c16 -d${seconds}s (wrk probed too), ${rounds} alternated rounds, medians (${machine()})`,
  ['', 'req/s', 'ratio (median per round)', 'p99 latency', 'server+wrk CPU µs/request', 'BPF ns/request', 'server spans/requests'],
  [
    ['without agent', fmt(b), '1', `${fmt(med('base', 'p99ms'), 2)} ms`, fmt(med('base', 'cpuUs'), 1), '—', '—'],
    ['agent, tls.enabled: false', fmt(med('sock', 'rps')), fmt(ratio('sock'), 3), `${fmt(med('sock', 'p99ms'), 2)} ms`, fmt(med('sock', 'cpuUs'), 1), fmt(med('sock', 'nsPerReq')), '—'],
    ['agent, TLS capture', fmt(med('tls', 'rps')), fmt(ratio('tls'), 3), `${fmt(med('tls', 'p99ms'), 2)} ms`, fmt(med('tls', 'cpuUs'), 1), fmt(med('tls', 'nsPerReq')), fmt(med('tls', 'spans'), 4)],
  ]);
process.exit(0);
