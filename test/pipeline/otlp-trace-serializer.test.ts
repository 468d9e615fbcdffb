import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleSpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { serializeSpans } from '../../src/pipeline/otlp-trace-serializer.ts';
import { ProtobufWriter } from '../../src/pipeline/protobuf-writer.ts';
import { MonotonicClock } from '../../src/pipeline/clock.ts';
import { KernelSpan, SpanSlab } from '../../src/pipeline/kernel-span.ts';
import { HttpRecord, type HttpExchange } from '../../src/receivers/http/decode.ts';
import { exchangeSpan, mapExchange, recordSpan } from '../../src/receivers/http/mapping.ts';
import { HttpEvent, HttpFlag, HttpRole } from '../../src/receivers/http/http.layout.ts';
import { PathTemplater } from '../../src/receivers/http/templater.ts';
import { otlpCodecs, TO_OBJECT_OPTIONS } from '../support/otlp-proto.ts';
import { httpExchange } from '../support/http-exchange.ts';

// Every field, defaults included: the official serializer writes some zero values explicitly.
function decode(bytes: Uint8Array): unknown {
  const t = otlpCodecs().traces.request;
  return t.toObject(t.decode(bytes), { ...TO_OBJECT_OPTIONS, defaults: true });
}

function assertSameAsOfficial(spans: ReadableSpan[]): void {
  const ours = serializeSpans(spans);
  const official = ProtobufTraceSerializer.serializeRequest(spans)!;
  assert.deepEqual(decode(ours), decode(official));
}

const F = HttpEvent.fields;
const opts = { templater: new PathTemplater(), captureQuery: true, captureUserAgent: true };
const nginx = resourceFromAttributes({ 'service.name': 'nginx', 'process.pid': 1234, 'process.command_args': ['nginx', '-g', 'daemon off;'] });
const node = resourceFromAttributes({ 'service.name': 'nøde ☃', 'host.arch': 'amd64' });
const scope = { name: 'kotel/receiver/http', version: '0.1.0' };

function exchange(over: Partial<HttpExchange>): HttpExchange {
  return httpExchange({
    reqHead: 'GET /users/7?q=é HTTP/1.1\r\nHost: api.local:8080\r\nUser-Agent: t/1\r\n\r\n', respHead: 'HTTP/1.1 200 OK\r\n\r\n', respHdrEnd: 19, ...over,
  });
}

function httpSpan(over: Partial<HttpExchange>, resource = nginx): ReadableSpan {
  const ex = exchange(over);
  return exchangeSpan(ex, mapExchange(ex, opts), [1_700_000_000, 123_456_789], [1_700_000_001, 5], resource, scope);
}

/** A plain ReadableSpan using what kernel spans never do: events, links, trace state, status message, odd values. */
function sdkSpan(i: number): ReadableSpan {
  const ctx = { traceId: 'a'.repeat(31) + (i % 10), spanId: 'b'.repeat(15) + (i % 10), traceFlags: TraceFlags.SAMPLED, traceState: new TraceState('k=v,x=y') };
  return {
    name: `op ${i}`, kind: SpanKind.PRODUCER, spanContext: () => ctx,
    parentSpanContext: { traceId: ctx.traceId, spanId: 'c'.repeat(16), traceFlags: TraceFlags.NONE, isRemote: true },
    startTime: [1_700_000_000, 1], endTime: [1_700_000_000, 999_999_999], duration: [0, 999_999_998],
    status: { code: SpanStatusCode.ERROR, message: 'bröken' },
    attributes: { s: 'x'.repeat(300), neg: -42, big: 2 ** 40, dbl: 0.25, t: true, f: false, arr: ['a', 'b'], nums: [1, 2.5], empty: '' },
    links: [{ context: { traceId: 'd'.repeat(32), spanId: 'e'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { l: 1 }, droppedAttributesCount: 2 }],
    events: [{ name: 'ev', time: [1_700_000_000, 5], attributes: { e: 'v' }, droppedAttributesCount: 1 }],
    ended: true, resource: node, instrumentationScope: { name: 'other', version: '2' },
    droppedAttributesCount: 3, droppedEventsCount: 4, droppedLinksCount: 5,
  };
}

describe('pipeline: OTLP trace serializer', () => {
  it('kernel spans decode to exactly what the official serializer writes for them', () => {
    assertSameAsOfficial([
      httpSpan({}),
      httpSpan({ parentId: '1111111111111111', flags: HttpFlag.HTTP_F_REMOTE_PARENT, respHead: 'HTTP/1.1 503 E\r\n\r\n' }),
      httpSpan({ role: HttpRole.HTTP_ROLE_CLIENT, parentId: '2222222222222222', flags: HttpFlag.HTTP_F_KERNEL_PARENT }, node),
      httpSpan({ family: 10, peerAddress: '::1', localAddress: '::1', reqHead: 'PURGE /x HTTP/1.0\r\n\r\n', flags: HttpFlag.HTTP_F_CLOSED, respHead: '', status: 0 }),
    ]);
  });

  it('any other ReadableSpan (events, links, trace state, arrays, negative and large ints) too, mixed with kernel spans', () => {
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < 30; i++) spans.push(i % 3 ? sdkSpan(i) : httpSpan({}, i % 2 ? node : nginx));
    assertSameAsOfficial(spans);
  });

  it('spans built from a record in the kernel layout: binary ids and monotonic → Unix times', () => {
    const buf = Buffer.alloc(HttpEvent.size);
    buf.writeUInt16LE(48, 0);
    buf.writeBigUInt64LE(0xffff_fff0n, F.start_ns.offset);            // low word carries into the high one
    buf.writeBigUInt64LE(0x1_0000_0010n, F.end_ns.offset);
    buf.fill(0xab, F.trace_id.offset, F.trace_id.offset + 16);
    buf.fill(0xcd, F.span_id.offset, F.span_id.offset + 8);
    buf.fill(0x01, F.parent_id.offset, F.parent_id.offset + 8);
    buf.writeUInt8(HttpFlag.HTTP_F_REMOTE_PARENT, F.flags.offset);
    buf.writeUInt16LE(2, F.family.offset);
    const head = 'GET /a HTTP/1.1\r\nHost: h\r\n\r\n';
    buf.write(head, F.req_head.offset, 'latin1');
    buf.writeUInt16LE(head.length, F.req_head_len.offset);
    buf.writeUInt8(HttpRole.HTTP_ROLE_SERVER, F.role.offset);
    const rec = new HttpRecord(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), 0);
    const clock = new MonotonicClock();
    const span = recordSpan(rec, mapExchange(rec, opts), clock, new SpanSlab(), nginx, scope);
    assert.deepEqual(span.startTime, clock.toHrTime(0xffff_fff0n));
    assert.deepEqual(span.endTime, clock.toHrTime(0x1_0000_0010n));
    assert.deepEqual(span.duration, [0, 0x20]);
    assert.equal(span.spanContext().traceId, 'ab'.repeat(16));
    assert.equal(span.parentSpanContext?.spanId, '01'.repeat(8));
    assert.equal(span.parentSpanContext?.isRemote, true);
    assertSameAsOfficial([span]);
  });

  it('large batches: nested lengths of every varint size, many resources', () => {
    const spans: ReadableSpan[] = [];
    const resources = Array.from({ length: 5 }, (_, i) => resourceFromAttributes({ 'service.name': `s${i}`, pad: 'p'.repeat(i * 100) }));
    for (let i = 0; i < 9000; i++) spans.push(httpSpan({ reqHead: `GET /${'x'.repeat(i % 200)}/${i} HTTP/1.1\r\n\r\n` }, resources[i % 5]));
    assertSameAsOfficial(spans);
    assert.ok(serializeSpans(spans).length > 1 << 21, 'resource_spans lengths above 2^21 need 4-byte varints');
  });

  it('writer: a nested message whose reserved length was too small or too large moves its body', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_152]) {
      for (const reserve of [1, 2, 4]) {
        const w = new ProtobufWriter(8);
        const at = w.begin(reserve);
        w.raw(new Uint8Array(n).fill(7), 0, n);
        w.end(at, reserve);
        const out = Buffer.from(w.finish());
        let len = 0, shift = 0, p = 0;
        for (;;) { const b = out[p++]; len += (b & 0x7f) * 2 ** shift; shift += 7; if (b < 0x80) break; }
        assert.equal(len, n);
        assert.equal(out.length, p + n);
        assert.ok(out.subarray(p).every((b) => b === 7));
      }
    }
  });

  it('a KernelSpan is a complete ReadableSpan for the console exporter and a resource processor', () => {
    const span = httpSpan({ parentId: '1111111111111111', flags: HttpFlag.HTTP_F_REMOTE_PARENT }) as KernelSpan;
    const printed: unknown[] = [];
    const log = console.dir;
    console.dir = (o: unknown) => { printed.push(o); };
    try {
      new ConsoleSpanExporter().export([span], () => undefined);
    } finally {
      console.dir = log;
    }
    const p = printed[0] as { traceId: string; parentSpanContext?: { spanId: string }; name: string; duration: number; attributes: Record<string, unknown> };
    assert.equal(p.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(p.parentSpanContext?.spanId, '1111111111111111');
    assert.equal(p.name, 'GET /users/{id}');
    assert.equal(p.duration, 1_000_000 - 123_456.789 + 0.005, 'µs between the two HrTimes');
    assert.equal(p.attributes['url.path'], '/users/7');
    assert.equal(p.attributes['network.peer.port'], 50000);
    const moved = span.withResource(node);
    assert.ok(moved instanceof KernelSpan);
    assert.equal(moved.resource, node);
    assert.equal(moved.spanContext().spanId, span.spanContext().spanId);
    assert.deepEqual(decode(serializeSpans([moved])), decode(ProtobufTraceSerializer.serializeRequest([moved])!));
  });
});

