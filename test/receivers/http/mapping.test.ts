import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { decodeHttpExchange, type HttpExchange, type HttpRecord } from '../../../src/receivers/http/decode.ts';
import { exchangeSpan, HeadCache, mapExchange } from '../../../src/receivers/http/mapping.ts';
import { HttpEvent, HttpFlag, HttpRole } from '../../../src/receivers/http/http.layout.ts';
import { PathTemplater } from '../../../src/receivers/http/templater.ts';
import { httpExchange } from '../../support/http-exchange.ts';

const exchange = httpExchange;
const opts = { templater: new PathTemplater(), captureQuery: false, captureUserAgent: false };

/** A record in the kernel's layout (IPv4), read in place; `fill`: the bytes past the request head. */
function recordOf(r: { req: string; resp?: string; status: number; role: number; fill?: number }): HttpRecord {
  const F = HttpEvent.fields;
  const buf = Buffer.alloc(HttpEvent.size, r.fill ?? 0);
  buf.fill(0, 0, F.req_head.offset + F.req_head.size);
  buf.write(r.req, F.req_head.offset, 'latin1');
  buf.writeUInt16LE(r.req.length, F.req_head_len.offset);
  buf.write(r.resp ?? '', F.resp_head.offset, 'latin1');
  buf.writeUInt16LE(r.resp?.length ?? 0, F.resp_head_len.offset);
  buf.writeUInt16LE(2, F.family.offset);
  buf.writeUInt16LE(r.status, F.status.offset);
  buf.writeUInt8(r.role, F.role.offset);
  return decodeHttpExchange(buf, 0, new DataView(buf.buffer, buf.byteOffset, buf.length));
}

describe('receivers/http: span mapping', () => {
  it('server span: name, semconv attributes, no query or user agent by default', () => {
    const m = mapExchange(exchange({}), opts);
    assert.equal(m.name, 'GET /users/{id}');
    assert.equal(m.spanAttributes['url.path'], '/users/7');
    assert.equal(m.spanAttributes['url.query'], undefined);
    assert.equal(m.spanAttributes['user_agent.original'], undefined);
    assert.equal(m.spanAttributes['server.address'], 'api.local');
    assert.equal(m.spanAttributes['http.route'], '/users/{id}');
    assert.equal(m.metricAttributes['url.path'], undefined, 'metrics stay low-cardinality');
    assert.equal(m.error, false);
    assert.equal(m.responseBodySize, 82);
  });

  it('opt-in query and user agent', () => {
    const m = mapExchange(exchange({}), { ...opts, captureQuery: true, captureUserAgent: true });
    assert.equal(m.spanAttributes['url.query'], 'secret=1');
    assert.equal(m.spanAttributes['user_agent.original'], 't/1');
  });

  it('status rules: server 5xx is an error, client 4xx too; a close mid-exchange is an error', () => {
    assert.equal(mapExchange(exchange({ respHead: 'HTTP/1.1 404 No\r\n\r\n' }), opts).error, false);
    assert.equal(mapExchange(exchange({ respHead: 'HTTP/1.1 503 No\r\n\r\n' }), opts).error, true);
    const c = mapExchange(exchange({ respHead: 'HTTP/1.1 404 No\r\n\r\n', role: HttpRole.HTTP_ROLE_CLIENT }), opts);
    assert.equal(c.error, true);
    assert.equal(c.metricAttributes['error.type'], '404');
    assert.equal(c.spanAttributes['url.full'], 'http://api.local:8080/users/7');
    const closed = mapExchange(exchange({ respHead: '', status: 0, flags: HttpFlag.HTTP_F_CLOSED }), opts);
    assert.equal(closed.metricAttributes['error.type'], 'connection_closed');
  });

  it('unknown methods become _OTHER', () => {
    const m = mapExchange(exchange({ reqHead: 'PURGE /x HTTP/1.1\r\n\r\n' }), opts);
    assert.equal(m.name, 'HTTP');
    assert.equal(m.spanAttributes['http.request.method_original'], 'PURGE');
  });

  it('ReadableSpan: kernel ids, remote parent from traceparent, kind and status', () => {
    const ex = exchange({ parentId: '1111111111111111', flags: HttpFlag.HTTP_F_REMOTE_PARENT, respHead: 'HTTP/1.1 500 E\r\n\r\n' });
    const span = exchangeSpan(ex, mapExchange(ex, opts), [1, 0], [1, 2_000_000], resourceFromAttributes({}), { name: 'kotel/receiver/http' });
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.spanContext().traceId, ex.traceId);
    assert.equal(span.parentSpanContext?.spanId, '1111111111111111');
    assert.equal(span.parentSpanContext?.isRemote, true);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.deepEqual(span.duration, [0, 2_000_000]);
  });

  it('decodes an http_event written at the generated offsets', () => {
    const F = HttpEvent.fields;
    const buf = Buffer.alloc(HttpEvent.size);
    buf.writeUInt16LE(48, 0);
    buf.writeBigUInt64LE(5n, F.start_ns.offset);
    buf.writeBigUInt64LE(9n, F.end_ns.offset);
    buf.fill(0xab, F.trace_id.offset, F.trace_id.offset + 16);
    buf.fill(0xcd, F.span_id.offset, F.span_id.offset + 8);
    buf.writeUInt16LE(10, F.family.offset);
    buf[F.raddr.offset + 15] = 1;
    buf.writeUInt16LE(443, F.rport.offset);
    const head = 'GET / HTTP/1.1\r\n\r\n';
    buf.write(head, F.req_head.offset, 'latin1');
    buf.writeUInt16LE(head.length, F.req_head_len.offset);
    buf.writeUInt8(HttpRole.HTTP_ROLE_CLIENT, F.role.offset);
    const ex = decodeHttpExchange(buf, 0, new DataView(buf.buffer, buf.byteOffset, buf.length));
    assert.deepEqual([ex.startNs, ex.endNs, ex.peerAddress, ex.peerPort, ex.reqHead, ex.parentId], [5n, 9n, '::1', 443, head, '']);
    assert.equal(ex.traceId, 'ab'.repeat(16));
    assert.equal(ex.spanId, 'cd'.repeat(8));
  });

  it('the head cache changes nothing: same heads with other statuses, ports, roles, flags map as without it', () => {
    const cached = { ...opts, captureUserAgent: true, heads: new HeadCache(3) };
    const plain = { ...opts, captureUserAgent: true };
    const heads = [
      'GET /users/7?secret=1 HTTP/1.1\r\nHost: api.local:8080\r\nUser-Agent: t/1\r\n\r\n',
      'POST /orders HTTP/1.0\r\nHost: shop\r\n\r\n',
      'PURGE /x HTTP/1.1\r\n\r\n',
      'GET /cut-by-the-capt',
      'GET /no-host HTTP/1.1\r\n\r\n',
    ];
    const resps = ['HTTP/1.1 200 OK\r\n\r\n', 'HTTP/1.0 503 E\r\n\r\n', 'HTTP/1.1 404 N\r\n\r\n', '', 'HTTP/2 2e2 odd\r\n\r\n'];
    for (let i = 0; i < 200; i++) {
      const ex = exchange({
        reqHead: heads[i % heads.length], respHead: resps[(i >> 1) % resps.length], status: i % 7 ? 0 : 204,
        role: i % 3 ? HttpRole.HTTP_ROLE_SERVER : HttpRole.HTTP_ROLE_CLIENT, localPort: 8080 + (i % 4), peerPort: 50000 + (i % 5),
        flags: (i % 11 === 0 ? HttpFlag.HTTP_F_CLOSED : 0) | (i % 13 === 0 ? HttpFlag.HTTP_F_TLS : 0),
      });
      const a = mapExchange(ex, cached), b = mapExchange(ex, plain);
      assert.deepEqual(a, b, `exchange ${i}`);
    }
  });

  it('records read in place share parsed heads by request line and Host only, and map as without the cache', () => {
    const tp = (i: number) => `traceparent: 00-${String(i).padStart(32, 'a')}-${'b'.repeat(16)}-01\r\n`;
    const heads = (i: number) => [
      `GET /users/${i % 3} HTTP/1.1\r\nHost: api.local:8080\r\n${tp(i)}\r\n`,
      `GET /users/${i % 3} HTTP/1.1\r\n${tp(i)}host: other:81\r\nAccept: */*\r\n\r\n`,
      `GET /users/${i % 3} HTTP/1.1\r\n${tp(i)}HOST: other:81\r\nHost: second\r\n\r\n`,
      'GET /x HTTP/1.1\r\nHost: v',
      'GET /x HTTP/1.1\r\nHost: v\r\n\r\n',
      'GET /x HTTP/1.1\r\nHost: bare-lf\nX: y\r\n\r\n',
      'GET /x HTTP/1.1\r\nHost: bare-lf\nX: z\r\n\r\n',
      `GET\r\nX${i % 2}: y\r\nHost: z\r\n\r\n`,
      'GET /no-host HTTP/1.0\r\nAccept: */*\r\n\r\n',
      'GET /cut-request-li',
      'PURGE /x HTTP/1.1\r\nHost : spaced\r\n\r\n',
      'GET /x HTTP/1.1\r\nX-Host: no\r\n\r\n',
    ];
    const cached = { ...opts, heads: new HeadCache() };
    for (let i = 0; i < 60; i++) {
      for (const req of heads(i)) {
        // bytes past the head are never part of it
        const rec = recordOf({ req, status: 200, role: i % 2 ? HttpRole.HTTP_ROLE_SERVER : HttpRole.HTTP_ROLE_CLIENT, fill: 0x0d });
        const plain: HttpExchange = { ...exchange({}) };
        for (const k of Object.keys(plain) as Array<keyof HttpExchange>) (plain as unknown as Record<string, unknown>)[k] = rec[k];
        assert.deepEqual(mapExchange(rec, cached), mapExchange(plain, opts), JSON.stringify(req));
      }
    }
    // the traceparent's ids do not make heads distinct: 12 variants, a few keys each
    assert.ok(cached.heads.byKey.size <= 20, `${cached.heads.byKey.size} keys`);
    assert.equal(cached.heads.map.size, 0);
  });

  it('two request lines with the same 32-bit key hash keep their own parsed heads', () => {
    // FNV-1a of both lines is the same (found by a birthday search); the cache must compare bytes
    const lines = ['GET /c5pvu HTTP/1.1\r\n', 'GET /cc3ea HTTP/1.1\r\n'];
    const cached = { ...opts, heads: new HeadCache() };
    for (let i = 0; i < 4; i++) {
      for (const line of lines) {
        const rec = recordOf({ req: `${line}Accept: */*\r\n\r\n`, status: 200, role: HttpRole.HTTP_ROLE_SERVER });
        assert.equal(mapExchange(rec, cached).name, `GET ${line.split(' ')[1]}`);
      }
    }
    assert.equal(cached.heads.byKey.size, 1);
    assert.equal(cached.heads.keyed, 2);
  });

  it('a record read in place maps as the same exchange decoded into a plain object', () => {
    const resps = ['HTTP/1.1 200 OK\r\n\r\n', 'HTTP/1.0 503 Service Unavailable\r\n', 'HTTP/1.1 2e2 odd\r\n\r\n', 'HTTP/2 404 N\r\n', 'junk', ''];
    for (const resp of resps) {
      const rec = recordOf({ req: 'GET /a/123 HTTP/1.1\r\nHost: h:81\r\n\r\n', resp, status: 299, role: HttpRole.HTTP_ROLE_SERVER });
      const plain: HttpExchange = { ...exchange({}) };
      for (const k of Object.keys(plain) as Array<keyof HttpExchange>) (plain as unknown as Record<string, unknown>)[k] = rec[k];
      assert.deepEqual(mapExchange(rec, opts), mapExchange(plain, opts), resp);
    }
  });
});

