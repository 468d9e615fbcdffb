import assert from 'node:assert/strict';
import { headerValue, parseRequestHead, parseResponseHead, parseTraceparent, splitHost } from '../../../src/receivers/http/parse.ts';
import { autoTemplate, PathTemplater } from '../../../src/receivers/http/templater.ts';
import { explicitBucket, exponentialIndex, HistogramSet } from '../../../src/receivers/http/metrics.ts';

describe('receivers/http: head parsers', () => {
  it('parses a request head: method, path without query, version, host, user agent', () => {
    const r = parseRequestHead('GET /users/42?token=x HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.0\r\n\r\n')!;
    assert.deepEqual([r.method, r.path, r.query, r.version, r.host, r.userAgent], ['GET', '/users/42', 'token=x', '1.1', 'example.com:8080', 'curl/8.0']);
  });

  it('a request line cut by the capture or a split write still yields method and path', () => {
    assert.equal(parseRequestHead('GET /split/7 HT')!.path, '/split/7');
    assert.equal(parseRequestHead('POST /a/very/long/pa')!.path, '/a/very/long/pa');
    assert.equal(parseRequestHead('GET /x HTTP/1.0\r\nHost: a\r\n')!.version, '1.0');
  });

  it('absolute-form targets (proxies) give the path', () => {
    assert.equal(parseRequestHead('GET http://up:8080/v1/items?q=1 HTTP/1.1\r\n\r\n')!.path, '/v1/items');
  });

  it('does not return a header value cut by the capture size', () => {
    assert.equal(headerValue('GET / HTTP/1.1\r\nHost: abc', 'host'), undefined);
    assert.equal(headerValue('GET / HTTP/1.1\r\nhOsT:  abc \r\n', 'Host'), 'abc');
  });

  it('parses status lines', () => {
    assert.deepEqual(parseResponseHead('HTTP/1.1 404 Not Found\r\n'), { version: '1.1', status: 404 });
    assert.equal(parseResponseHead('HTTP/1.1 xx'), undefined);
    assert.equal(parseResponseHead('SSH-2.0-OpenSSH'), undefined);
  });

  it('splits host headers, IPv6 included', () => {
    assert.deepEqual(splitHost('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(splitHost('a.example'), { host: 'a.example', port: undefined });
    assert.deepEqual(splitHost('a.example:81'), { host: 'a.example', port: 81 });
  });
});

describe('receivers/http: traceparent', () => {
  it('accepts version 00 and rejects zero ids and version ff', () => {
    assert.deepEqual(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
    assert.equal(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'), undefined);
    assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'), undefined);
    assert.equal(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), undefined);
    assert.equal(parseTraceparent('00-4bf92f35'), undefined);
  });
});

describe('receivers/http: path templater', () => {
  it('turns ids, numbers, UUIDs and hashes into placeholders', () => {
    assert.equal(autoTemplate('/users/42'), '/users/{id}');
    assert.equal(autoTemplate('/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301/items/7'), '/orders/{uuid}/items/{id}');
    assert.equal(autoTemplate('/blobs/d41d8cd98f00b204e9800998ecf8427e'), '/blobs/{hash}');
    assert.equal(autoTemplate('/s/AbC123xyz789QWErty55'), '/s/{token}');
    assert.equal(autoTemplate('/static/app.js'), '/static/app.js');
    assert.equal(autoTemplate('/'), '/');
  });

  it('configured routes win and are matched segment by segment', () => {
    const t = new PathTemplater(['/api/{version}/users/{name}']);
    assert.equal(t.route('/api/v2/users/alice'), '/api/{version}/users/{name}');
    assert.equal(t.template('/api/v2/users/alice'), '/api/{version}/users/{name}');
    assert.equal(t.route('/api/v2/users'), undefined);
    assert.equal(t.template('/api/v2/orders/5'), '/api/v2/orders/{id}');
  });
});

describe('receivers/http: histograms', () => {
  it('explicit buckets are upper-inclusive', () => {
    const b = [0.005, 0.01, 0.025];
    assert.equal(explicitBucket(b, 0.005), 0);
    assert.equal(explicitBucket(b, 0.0051), 1);
    assert.equal(explicitBucket(b, 0.025), 2);
    assert.equal(explicitBucket(b, 1), 3);
  });

  it('exponential buckets hold (base^i, base^(i+1)]', () => {
    assert.equal(exponentialIndex(1), -1);
    assert.equal(exponentialIndex(2), 7);
    assert.equal(exponentialIndex(2.0001), 8);
    const h = new HistogramSet('x', 's', '', [], true);
    h.record('k', {}, 2, [0, 0]);
    h.record('k', {}, 4, [0, 0]);
    const d = h.data([1, 0]) as { dataPoints: Array<{ value: { positive: { offset: number; bucketCounts: number[] }; count: number } }> };
    assert.equal(d.dataPoints[0].value.count, 2);
    assert.equal(d.dataPoints[0].value.positive.offset, 7);
    assert.equal(d.dataPoints[0].value.positive.bucketCounts.length, 9);
  });
});
