// Benchmark 3: ring buffer → JavaScript delivery. With rate_limit.records_per_second: 100000 and
// each storm process doing exactly 100,000 failures (one key per process, so every failure gets
// its own record within the key's first 1-s window), every failure crosses the ring buffer as a
// 368-byte record and becomes one log record. Measured: records delivered to JS per second
// (kotel.receiver.records over the time from the storm's start to the first self-metric export,
// every 100 ms, that shows all of them: a lower bound), the agent's CPU, and every loss the
// agent counts: kotel.receiver.dropped{ringbuf_full, consumer_queue_full}, kotel.exporter.dropped.
// Baselines in the same run: the storm without the agent, and with the default rate limit (10/s).
//
//   node bench/ring-delivery.ts             (env: PROCS=2,8 PER_PROC=100000)
import {
  OtlpReceiver, startAgent, agentConfig, syscallsSettings, runStorm, stormBinary, cpuSecondsPrecise,
  occurrencesOf, errorsCounterOf, selfMetric, sleep, table, fmt, machine, backgroundLoad,
} from './lib.ts';
import { pointsOf } from '../test/support/otlp-receiver.ts';

const PROCS = (process.env.PROCS ?? '2,8').split(',').map(Number);
const PER_PROC = Number(process.env.PER_PROC ?? 100_000);

interface Run {
  label: string; procs: number; failures: number; stormRate: number; records?: number; deliverSec?: number;
  cpuStormPct?: number; cpuSec?: number; ringbufFull?: number; queueFull?: number; exported?: number; exporterDropped?: number;
  counterExact?: boolean; occurrences?: number;
}

stormBinary();

async function noAgent(procs: number): Promise<Run> {
  const s = await runStorm('enoent', procs * PER_PROC, { procs });
  await s.release();
  return { label: 'no agent', procs, failures: s.failures, stormRate: s.failures / (s.elapsedNs / 1e9) };
}

async function withAgent(procs: number, recordsPerSecond: number | undefined): Promise<Run> {
  const rx = await OtlpReceiver.start({ httpPort: null });
  const agent = await startAgent(agentConfig(rx.grpcEndpoint, syscallsSettings({ errnos: ['ENOENT'], recordsPerSecond }), { metricsInterval: '100ms' }));
  const pid = agent.child.pid!;
  try {
    await sleep(300);
    const cpu0 = cpuSecondsPrecise(pid);
    const startWallNs = BigInt(Date.now()) * 1_000_000n;
    const s = await runStorm('enoent', procs * PER_PROC, { procs });
    const cpuStorm = cpuSecondsPrecise(pid) - cpu0;
    const N = s.failures;
    // Wait until the agent has handled everything the kernel counted: delivered + dropped = sent.
    let last = -1, stable = 0;
    for (let i = 0; i < 150 && stable < 3; i++) {
      await sleep(200);
      const seen = selfMetric(rx, 'kotel.receiver.records') + selfMetric(rx, 'kotel.receiver.dropped');
      stable = seen === last && errorsCounterOf(rx, s.pids, 'ENOENT') === N ? stable + 1 : 0;
      last = seen;
    }
    const cpuSec = cpuSecondsPrecise(pid) - cpu0;
    const counter = errorsCounterOf(rx, s.pids, 'ENOENT');
    await s.release();
    const code = await agent.stop();
    if (code !== 0) console.error(`agent exited with ${code}:\n${agent.stderr()}`);
    // After SIGTERM the agent flushed its queues and exported its final metrics.
    const records = selfMetric(rx, 'kotel.receiver.records');
    // The first collection (every 100 ms) at which JS had been handed every record.
    let doneNs = BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000n;
    for (const { point } of pointsOf(rx.metrics(), 'kotel.receiver.records', undefined, { resource: { 'service.name': 'kotel' } })) {
      if ((point.value ?? 0) >= records && point.timeUnixNano < doneNs) doneNs = point.timeUnixNano;
    }
    return {
      label: recordsPerSecond ? `agent, ${fmt(recordsPerSecond)} records/s per key` : 'agent, default 10 records/s per key',
      procs, failures: N, stormRate: N / (s.elapsedNs / 1e9), records,
      deliverSec: Number(doneNs - startWallNs) / 1e9,
      cpuStormPct: (100 * cpuStorm) / (s.elapsedNs / 1e9), cpuSec,
      ringbufFull: selfMetric(rx, 'kotel.receiver.dropped', { 'kotel.reason': 'ringbuf_full' }),
      queueFull: selfMetric(rx, 'kotel.receiver.dropped', { 'kotel.reason': 'consumer_queue_full' }),
      exported: selfMetric(rx, 'kotel.exporter.sent', { 'kotel.signal': 'logs' }),
      exporterDropped: selfMetric(rx, 'kotel.exporter.dropped', { 'kotel.signal': 'logs' }),
      counterExact: counter === N,
      occurrences: occurrencesOf(rx, s.pids, 'ENOENT').occurrences,
    };
  } finally {
    await agent.stop();
    await rx.stop();
  }
}

console.log(`# ring-delivery: ${fmt(PER_PROC)} ENOENT failures per storm process, ${machine()}`);
console.log(await backgroundLoad());
const rows: Array<Array<string | number>> = [];
for (const procs of PROCS) {
  const base = await noAgent(procs);
  const runs = [base, await withAgent(procs, undefined), await withAgent(procs, 100_000)];
  for (const r of runs) {
    console.error(JSON.stringify(r));
    const agent = r.records !== undefined;
    const many = agent && r.records! >= 1000;  // per-record figures mean nothing for a handful of records
    rows.push([
      `${procs} × ${fmt(PER_PROC)}: ${r.label}`, fmt(r.stormRate), (r.stormRate / base.stormRate).toFixed(2),
      agent ? fmt(r.records!) : '—', many ? `≥ ${fmt(r.records! / r.deliverSec!)}` : '—',
      agent ? fmt(r.cpuStormPct!, 0) : '—', agent ? `${fmt(r.cpuSec!, 2)} s` : '—', many ? fmt((1e6 * r.cpuSec!) / r.records!, 1) : '—',
      agent ? fmt(r.ringbufFull!) : '—', agent ? fmt(r.queueFull!) : '—', agent ? `${fmt(r.exported!)} / ${fmt(r.exporterDropped!)}` : '—',
      agent ? `${r.counterExact ? 'exact' : 'NOT exact'}; Σocc ${fmt(r.occurrences!)}` : '—',
    ]);
  }
}
table('ring buffer → JS delivery (ENOENT storm; one key per process)',
  ['run', 'storm /s', 'ratio', 'records to JS', 'records/s to JS', 'agent CPU % during storm', 'agent CPU total', 'agent CPU µs/record',
    'ringbuf_full', 'consumer_queue_full', 'exported / exporter-dropped', `counter; Σ occurrences (N = procs × ${fmt(PER_PROC)})`], rows);
