// Spans/s the http receiver's user-space path sustains into an OTLP/gRPC receiver without
// drops: synthetic http_event records (the kernel's layout) → decode → map → ReadableSpan →
// the agent's ExportQueue with the official OTLP gRPC trace exporter → OtlpReceiver.
// Run: node bench/http-pipeline.ts [spans=200000] [batch=8192]
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { credentials } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { fmt, table, machine } from './lib.ts';
import { ExportQueue } from '../src/pipeline/export-queue.ts';
import { decodeHttpExchange } from '../src/receivers/http/decode.ts';
import { exchangeSpan, mapExchange } from '../src/receivers/http/mapping.ts';
import { PathTemplater } from '../src/receivers/http/templater.ts';
import { HttpEvent, HttpRole } from '../src/receivers/http/http.layout.ts';

const total = Number(process.argv[2] ?? 200_000);
const batch = Number(process.argv[3] ?? 8192);
const F = HttpEvent.fields;

// 64 distinct records, as the kernel writes them.
const records = Buffer.alloc(HttpEvent.size * 64);
for (let i = 0; i < 64; i++) {
  const o = i * HttpEvent.size;
  records.writeUInt16LE(48, o);
  records.writeBigUInt64LE(1_000_000n, o + F.start_ns.offset);
  records.writeBigUInt64LE(1_250_000n, o + F.end_ns.offset);
  records.fill(i + 1, o + F.trace_id.offset, o + F.trace_id.offset + 16);
  records.fill(i + 7, o + F.span_id.offset, o + F.span_id.offset + 8);
  records.writeUInt16LE(2, o + F.family.offset);
  records.set([127, 0, 0, 1], o + F.laddr.offset);
  records.set([127, 0, 0, 1], o + F.raddr.offset);
  records.writeUInt16LE(8080, o + F.lport.offset);
  records.writeUInt16LE(40000 + i, o + F.rport.offset);
  const req = `GET /users/${i}/orders?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n`;
  const resp = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 1024\r\n\r\n';
  records.write(req, o + F.req_head.offset, 'latin1');
  records.writeUInt16LE(req.length, o + F.req_head_len.offset);
  records.write(resp, o + F.resp_head.offset, 'latin1');
  records.writeUInt16LE(resp.length, o + F.resp_head_len.offset);
  records.writeUInt8(HttpRole.HTTP_ROLE_SERVER, o + F.role.offset);
}
const view = new DataView(records.buffer, records.byteOffset, records.length);

// The receiver runs in its own process, as a collector would.
const sink = spawn(process.execPath, [new URL('./http-fixtures/otlp-sink.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
let sinkOut = '';
sink.stdout!.setEncoding('utf8').on('data', (d: string) => { sinkOut += d; });
while (!/endpoint (\S+)/.test(sinkOut)) await new Promise((r) => setTimeout(r, 20));
const endpoint = /endpoint (\S+)/.exec(sinkOut)![1];
async function received(): Promise<number> {
  const before = sinkOut.length;
  sink.stdin!.write('?\n');
  while (!/spans (\d+)\n/.test(sinkOut.slice(before))) await new Promise((r) => setTimeout(r, 5));
  return Number(/spans (\d+)\n/.exec(sinkOut.slice(before))![1]);
}
const exporter = new OTLPTraceExporter({ url: endpoint, credentials: credentials.createInsecure() });
const queue = new ExportQueue<ReadableSpan>(exporter, { maxQueueSize: total, batchSize: batch, maxBatchSize: batch, delayMs: 50, exportTimeoutMs: 30_000 });
const resource = resourceFromAttributes({ 'service.name': 'nginx', 'process.pid': 1234 });
const opts = { templater: new PathTemplater(), captureQuery: false, captureUserAgent: false };
const scope = { name: 'kotel/receiver/http', version: '0' };

const t0 = process.hrtime.bigint();
let cpu0 = process.cpuUsage();
for (let n = 0; n < total; n++) {
  const o = (n % 64) * HttpEvent.size;
  const ex = decodeHttpExchange(records, o, view);
  const m = mapExchange(ex, opts);
  queue.push(exchangeSpan(ex, m, [1, 0], [1, 250_000], resource, scope));
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
table(`http receiver pipeline into OTLP/gRPC (${machine()})`, ['spans', 'received', 'dropped', 'build µs/span', 'end-to-end spans/s'], [[
  fmt(total), fmt(got), fmt(queue.stats.droppedQueueFull + queue.stats.droppedExportFailed),
  fmt((buildCpu.user + buildCpu.system) / total, 2), fmt(total / sec),
]]);
console.log(`(build phase ${fmt(Number(tBuilt - t0) / 1e6)} ms; export CPU ${fmt((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e3)} ms; receiver in a separate process)`);
await queue.shutdown(10_000);
sink.stdin!.end();
process.exit(0);
