// Spans/s the http receiver's user-space path sustains into an OTLP/gRPC receiver without
// drops: synthetic http_event records (the kernel's layout) → decode → map → KernelSpan →
// the agent's ExportQueue with its OTLP gRPC trace exporter (the official delegate + kotel's
// serializer; `official` as 3rd argument: the official OTLPTraceExporter) → OtlpReceiver.
// Run: node bench/http-pipeline.ts [spans=200000] [batch=8192] [kotel|official]
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { credentials } from '@grpc/grpc-js';
import { cpuSecondsPrecise, fmt, table, machine } from './lib.ts';
import { ExportQueue } from '../src/pipeline/export-queue.ts';
import { createExporters } from '../src/pipeline/exporters.ts';
import { exporterConfig, grpcEndpoints } from '../test/support/exporter-config.ts';
import { MonotonicClock } from '../src/pipeline/clock.ts';
import { SpanSlab } from '../src/pipeline/kernel-span.ts';
import { HttpRecord } from '../src/receivers/http/decode.ts';
import { HeadCache, mapExchange, recordSpan } from '../src/receivers/http/mapping.ts';
import { PathTemplater } from '../src/receivers/http/templater.ts';
import { HttpEvent } from '../src/receivers/http/http.layout.ts';
import { syntheticRecords, DISTINCT_RECORDS } from './http-fixtures/records.ts';
import { startSink } from './http-fixtures/sink-process.ts';

const total = Number(process.argv[2] ?? 200_000);
const batch = Number(process.argv[3] ?? 8192);
const official = process.argv[4] === 'official';
// SINK=decode: the test OtlpReceiver, which decodes every span with protobufjs (~30 µs of CPU per span
// in the receiver process: then the receiver, not kotel, bounds spans/s on 2 cores).
const sinkScript = process.env.SINK === 'decode' ? './otlp-sink.ts' : './otlp-count-sink.ts';

const { records, view } = syntheticRecords();

// The receiver runs in its own process, as a collector would.
const sink = await startSink(sinkScript);
const endpoint = sink.endpoint;
const received = async () => (await sink.counts()).total;
const exporter = official
  ? new OTLPTraceExporter({ url: endpoint, credentials: credentials.createInsecure() })
  : createExporters(exporterConfig('grpc', grpcEndpoints(endpoint))).traces();
const queue = new ExportQueue<ReadableSpan>(exporter, { maxQueueSize: total, batchSize: batch, maxBatchSize: batch, delayMs: 50, exportTimeoutMs: 30_000 });
const resource = resourceFromAttributes({ 'service.name': 'nginx', 'process.pid': 1234 });
const opts = { templater: new PathTemplater(), captureQuery: false, captureUserAgent: false, heads: new HeadCache() };
const clock = new MonotonicClock();
const slab = new SpanSlab();
const rec = new HttpRecord(records, view, 0);
const scope = { name: 'kotel/receiver/http', version: '0' };

const t0 = process.hrtime.bigint();
const sinkCpu0 = cpuSecondsPrecise(sink.child.pid!);
const start = process.cpuUsage();
let cpu0 = process.cpuUsage();
for (let n = 0; n < total; n++) {
  rec.at(records, view, (n % DISTINCT_RECORDS) * HttpEvent.size);
  queue.push(recordSpan(rec, mapExchange(rec, opts), clock, slab, resource, scope));
  if (n % 10_000 === 9_999) await new Promise((r) => setImmediate(r));
}
const tBuilt = process.hrtime.bigint();
const buildCpu = process.cpuUsage(cpu0);
cpu0 = process.cpuUsage();
await queue.flush(120_000);
let got = 0;
const deadline = Date.now() + 120_000;
while ((got = await received()) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const t1 = process.hrtime.bigint();
const sec = Number(t1 - t0) / 1e9;
const all = process.cpuUsage(start);
const sinkCpu = cpuSecondsPrecise(sink.child.pid!) - sinkCpu0;
table(`http receiver pipeline into OTLP/gRPC, ${official ? 'official OTLPTraceExporter' : 'kotel serializer'} (${machine()})`,
  ['spans', 'received', 'dropped', 'build µs/span', 'agent-side CPU µs/span', 'receiver CPU µs/span', 'end-to-end spans/s'], [[
    fmt(total), fmt(got), fmt(queue.stats.droppedQueueFull + queue.stats.droppedExportFailed),
    fmt((buildCpu.user + buildCpu.system) / total, 2), fmt((all.user + all.system) / total, 2), fmt(sinkCpu * 1e6 / total, 2), fmt(total / sec),
  ]]);
console.log(`(build phase ${fmt(Number(tBuilt - t0) / 1e6)} ms, batches exported meanwhile included; export after it ${fmt((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e3)} ms CPU; receiver ${sinkScript} in a separate process)`);
await queue.shutdown(10_000);
sink.stop();
process.exit(0);
