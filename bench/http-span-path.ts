// CPU per span of the http receiver's user-space span path, in one process (less noisy than the
// end-to-end benchmarks on a shared machine): synthetic records in the kernel's layout → decode →
// map → span (build), then ExportTraceServiceRequest bytes (serialize) with kotel's serializer and
// with the official one for the same spans. Batches of 8,192 spans, as the agent's batch processor sends.
// Run: node bench/http-span-path.ts [rounds=7] [batches=8]
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { fmt, machine, median, table } from './lib.ts';
import { syntheticRecords, DISTINCT_RECORDS } from './http-fixtures/records.ts';
import { MonotonicClock } from '../src/pipeline/clock.ts';
import { SpanSlab } from '../src/pipeline/kernel-span.ts';
import { serializeSpans } from '../src/pipeline/otlp-trace-serializer.ts';
import { HttpRecord } from '../src/receivers/http/decode.ts';
import { HttpEvent } from '../src/receivers/http/http.layout.ts';
import { HeadCache, mapExchange, recordSpan } from '../src/receivers/http/mapping.ts';
import { PathTemplater } from '../src/receivers/http/templater.ts';

const rounds = Number(process.argv[2] ?? 7);
const batches = Number(process.argv[3] ?? 8);
const BATCH = 8192;

const { records, view } = syntheticRecords();
const resource = resourceFromAttributes({ 'service.name': 'nginx', 'process.pid': 1234, 'process.executable.name': 'nginx' });
const opts = { templater: new PathTemplater(), captureQuery: false, captureUserAgent: false, heads: new HeadCache() };
const scope = { name: 'kotel/receiver/http', version: '0' };
const clock = new MonotonicClock();
const slab = new SpanSlab();
const rec = new HttpRecord(records, view, 0);
const cpuUs = () => { const c = process.cpuUsage(); return c.user + c.system; };

function build(): ReadableSpan[][] {
  const out: ReadableSpan[][] = [];
  for (let b = 0; b < batches; b++) {
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < BATCH; i++) {
      rec.at(records, view, ((b * BATCH + i) % DISTINCT_RECORDS) * HttpEvent.size);
      spans.push(recordSpan(rec, mapExchange(rec, opts), clock, slab, resource, scope));
    }
    out.push(spans);
  }
  return out;
}

const rows: Record<string, number[]> = { build: [], kotel: [], official: [], metricsOnly: [] };
let bytesKotel = 0, bytesOfficial = 0;
for (let r = 0; r < rounds; r++) {
  let t = cpuUs();
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < BATCH; i++) {
      rec.at(records, view, ((b * BATCH + i) % DISTINCT_RECORDS) * HttpEvent.size);
      mapExchange(rec, opts, false);
    }
  }
  rows.metricsOnly.push((cpuUs() - t) / (batches * BATCH));
  t = cpuUs();
  const all = build();
  rows.build.push((cpuUs() - t) / (batches * BATCH));
  t = cpuUs();
  for (const spans of all) bytesKotel = serializeSpans(spans).length / BATCH;
  rows.kotel.push((cpuUs() - t) / (batches * BATCH));
  t = cpuUs();
  for (const spans of all) bytesOfficial = ProtobufTraceSerializer.serializeRequest(spans)!.length / BATCH;
  rows.official.push((cpuUs() - t) / (batches * BATCH));
}
const range = (xs: number[]) => `${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)}`;
table(`http span path, µs of CPU per span (${machine()}; ${rounds} rounds × ${batches} batches of ${fmt(BATCH)}, first round = warm-up included)`,
  ['stage', 'median µs/span', 'range'], [
    ['decode + map, no span (metrics only / not sampled)', fmt(median(rows.metricsOnly), 2), range(rows.metricsOnly)],
    ['decode + map + KernelSpan (build)', fmt(median(rows.build), 2), range(rows.build)],
    [`serialize, kotel (${fmt(bytesKotel)} B/span)`, fmt(median(rows.kotel), 2), range(rows.kotel)],
    [`serialize, official ProtobufTraceSerializer (${fmt(bytesOfficial)} B/span)`, fmt(median(rows.official), 2), range(rows.official)],
  ]);
