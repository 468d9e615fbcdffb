// A separate-process OTLP/gRPC trace receiver for the http benchmarks that costs little per span,
// as a collector elsewhere would cost nothing: it walks the protobuf wire format of each
// ExportTraceServiceRequest (resource_spans → resource / scope_spans → spans, every length checked)
// and counts spans per process.executable.name without looking inside a span (in the overhead bench
// nginx only answers, so its spans are its server spans). Looking inside each span for its kind cost
// ~2.5 µs of CPU per request on the benchmark's 2 cores, more than half of what the agent spent.
// Prints "endpoint URL" (OTLP/gRPC) and "http URL" (OTLP/HTTP protobuf, POST /v1/traces); answers each
// stdin line with "spans TOTAL {json of counts by executable name}".
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';

type Visit = (field: number, wire: number, start: number, end: number, value: number) => void;

/** Every field of the message in b[start, end); throws on a malformed one. */
function walk(b: Buffer, start: number, end: number, fn: Visit): void {
  let p = start;
  const varint = (): number => {
    let v = 0, shift = 0, c: number;
    do { if (p >= end) throw new Error('truncated varint'); c = b[p++]; v += (c & 0x7f) * 2 ** shift; shift += 7; } while (c & 0x80);
    return v;
  };
  while (p < end) {
    const tag = varint();
    const wire = tag & 7, field = Math.floor(tag / 8);
    if (wire === 0) { const v = varint(); fn(field, wire, p, p, v); }
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) { const n = varint(); if (p + n > end) throw new Error('length beyond message'); fn(field, wire, p, p + n, n); p += n; }
    else throw new Error(`wire type ${wire}`);
  }
  if (p !== end) throw new Error('message overrun');
}

const counts = new Map<string, number>();
let total = 0;

/** The number of field-`field` entries in b[start, end) (tags and lengths read, values skipped). */
function countFields(b: Buffer, start: number, end: number, field: number): number {
  let n = 0;
  walk(b, start, end, (f, w) => { if (f === field && w === 2) n++; });
  return n;
}

function countSpans(b: Buffer): void {
  walk(b, 0, b.length, (f, w, s, e) => {
    if (f !== 1 || w !== 2) return;
    let exe = '', spans = 0;
    walk(b, s, e, (f2, w2, s2, e2) => {                 // ResourceSpans
      if (f2 === 1 && w2 === 2) walk(b, s2, e2, (f3, w3, s3, e3) => {   // Resource.attributes
        if (f3 !== 1 || w3 !== 2) return;
        let key = '', value = '';
        walk(b, s3, e3, (f4, w4, s4, e4) => {
          if (f4 === 1 && w4 === 2) key = b.toString('utf8', s4, e4);
          else if (f4 === 2 && w4 === 2) walk(b, s4, e4, (f5, w5, s5, e5) => { if (f5 === 1 && w5 === 2) value = b.toString('utf8', s5, e5); });
        });
        if (key === 'process.executable.name') exe = value;
      });
      else if (f2 === 2 && w2 === 2) spans += countFields(b, s2, e2, 2);   // ScopeSpans.spans
    });
    counts.set(exe, (counts.get(exe) ?? 0) + spans);
    total += spans;
  });
}

const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 << 20 });
server.addService({
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false,
    requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
    responseSerialize: () => Buffer.alloc(0), responseDeserialize: (b: Buffer) => b,
  },
}, {
  Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    try { countSpans(call.request); cb(null, Buffer.alloc(0)); } catch (err) { cb({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message }); }
  },
});
const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      if (req.url !== '/v1/traces') throw new Error(`no ${req.url} here`);
      countSpans(Buffer.concat(chunks));
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    } catch (err) {
      res.writeHead(400).end((err as Error).message);
    }
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
console.log(`http http://127.0.0.1:${(http.address() as { port: number }).port}`);
console.log(`endpoint http://127.0.0.1:${port}`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => console.log(`spans ${total} ${JSON.stringify(Object.fromEntries(counts))}`));
process.stdin.on('end', () => { server.forceShutdown(); http.close(); process.exit(0); });
