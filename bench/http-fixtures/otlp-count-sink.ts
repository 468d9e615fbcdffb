// A separate-process OTLP/gRPC trace receiver for bench/http-pipeline.ts that costs little per
// span, as a collector would: it walks the protobuf wire format of each ExportTraceServiceRequest
// (resource_spans → scope_spans → spans, every length checked) and counts the spans instead of
// decoding them into objects. Prints its endpoint, then the span count whenever a line arrives on stdin.
import * as grpc from '@grpc/grpc-js';

/** Fields of one length-delimited message: calls fn(field, start, end) for each length-delimited field. */
function walk(b: Buffer, start: number, end: number, fn: (field: number, s: number, e: number) => void): void {
  let p = start;
  const varint = (): number => {
    let v = 0, shift = 0, c: number;
    do { if (p >= end) throw new Error('truncated varint'); c = b[p++]; v += (c & 0x7f) * 2 ** shift; shift += 7; } while (c & 0x80);
    return v;
  };
  while (p < end) {
    const tag = varint();
    const wire = tag & 7, field = Math.floor(tag / 8);
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) { const n = varint(); if (p + n > end) throw new Error('length beyond message'); fn(field, p, p + n); p += n; }
    else throw new Error(`wire type ${wire}`);
  }
  if (p !== end) throw new Error('message overrun');
}

function countSpans(b: Buffer): number {
  let n = 0;
  walk(b, 0, b.length, (f, s, e) => {
    if (f === 1) walk(b, s, e, (f2, s2, e2) => {          // ResourceSpans
      if (f2 === 2) walk(b, s2, e2, (f3, s3, e3) => {     // ScopeSpans
        if (f3 === 2) { n++; walk(b, s3, e3, () => undefined); }   // Span
      });
    });
  });
  return n;
}

let spans = 0;
const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 << 20 });
server.addService({
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false,
    requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
    responseSerialize: () => Buffer.alloc(0), responseDeserialize: (b: Buffer) => b,
  },
}, {
  Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    try { spans += countSpans(call.request); cb(null, Buffer.alloc(0)); } catch (err) { cb({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message }); }
  },
});
const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
console.log(`endpoint http://127.0.0.1:${port}`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => console.log(`spans ${spans}`));
process.stdin.on('end', () => { server.forceShutdown(); process.exit(0); });
