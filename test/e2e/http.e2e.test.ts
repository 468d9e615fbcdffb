// End to end on the real kernel: real HTTP servers and clients → the agent (http receiver) →
// OTLP/gRPC → a receiver. Counts are exact: spans = the requests the server counted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { OtlpReceiver, latestPoints, type Span } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { httpConfig, rawExchange, startNodeServer, type NodeServer } from './http-fixtures/helpers.ts';

// GET /count is the test reading the server's own counter: not one of the counted requests.
const serverSpans = (rx: OtlpReceiver, pid: number) => rx.spans().filter((s) => s.resource['process.pid'] === pid && s.kind === 2 && s.name !== 'GET /count');
const clientSpans = (rx: OtlpReceiver, pid: number) => rx.spans().filter((s) => s.resource['process.pid'] === pid && s.kind === 3);
const ms = (s: Span) => Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6;

// Every capture path must give the same exact counts: the sock tracepoints (6.3+), the
// syscall-exit fallback for older kernels, and that fallback as a kernel before 5.17 runs it
// (classic tracepoint, the bounded-loop scan instead of bpf_loop).
const PATHS: Array<{ name: string; settings: string; env: Record<string, string>; ready: RegExp }> = [
  { name: 'hooks: sock', settings: '{ hooks: sock }', env: {}, ready: /ready: receivers http\(tp_btf\/sock_send_length\+sock_recv_length\)/ },
  { name: 'hooks: syscalls', settings: '{ hooks: syscalls }', env: {}, ready: /ready: receivers http\(raw_tp\/sys_exit\+inet_sock_set_state\)/ },
  {
    name: 'hooks: syscalls, hook: tracepoint, no bpf_loop', settings: '{ hooks: syscalls, hook: tracepoint }',
    env: { KOTEL_TEST_NO_BPF_LOOP: '1' }, ready: /ready: receivers http\(tracepoint\/sys_exit\+inet_sock_set_state\)/,
  },
];

for (const path of PATHS) describe(`e2e: http receiver (node server, curl, raw sockets), ${path.name}`, function () {
  this.timeout(120_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let server: NodeServer;

  before(async () => {
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(httpConfig(rx.grpcEndpoint, path.settings), path.env);
    server = await startNodeServer();
  });

  after(async () => {
    await server?.stop();
    const code = await agent?.stop();
    await rx?.stop();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('prints a ready line naming the hooks', () => {
    assert.match(agent.stderr(), path.ready);
  });

  it('curl over one keep-alive connection: one server and one client span per request, templated names, statuses', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const before = await server.count();
    const urls = [`${base}/users/1`, `${base}/users/2?token=secret`, `${base}/users/3`, `${base}/fail`, `${base}/missing`];
    const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\\n', ...urls], { encoding: 'utf8' });
    assert.equal(out.trim().split('\n').map((l) => l.split(' ')[1]).filter((n) => n === '1').length, 1, 'curl reused one connection');
    const served = (await server.count()) - before;
    assert.equal(served, 5);
    await rx.waitFor(() => serverSpans(rx, server.pid).length >= served, { timeoutMs: 15_000, what: `${served} server spans` });
    const spans = serverSpans(rx, server.pid);
    assert.equal(spans.length, served);
    assert.deepEqual(spans.map((s) => s.name), ['GET /users/{id}', 'GET /users/{id}', 'GET /users/{id}', 'GET /fail', 'GET /missing']);
    assert.deepEqual(spans.map((s) => s.attributes['http.response.status_code']), [200, 200, 200, 500, 404]);
    assert.deepEqual(spans.map((s) => s.status.code), [0, 0, 0, 2, 0]);
    assert.equal(spans[3].attributes['error.type'], '500');
    const s = spans[1];
    assert.equal(s.attributes['url.path'], '/users/2');
    assert.equal(s.attributes['url.query'], undefined, 'query strings are not exported by default');
    assert.equal(s.attributes['http.request.method'], 'GET');
    assert.equal(s.attributes['url.scheme'], 'http');
    assert.equal(s.attributes['http.route'], '/users/{id}');
    assert.equal(s.attributes['network.protocol.version'], '1.1');
    assert.equal(s.attributes['server.port'], server.port);
    assert.equal(s.attributes['client.address'], '127.0.0.1');
    assert.equal(s.attributes['user_agent.original'], undefined, 'user agent is opt-in');
    for (const sp of spans) assert.ok(ms(sp) > 0 && ms(sp) < 1000, `duration ${ms(sp)} ms`);
    assert.equal(s.scope.name, 'kotel/receiver/http');
    // curl's own client spans: 4xx and 5xx are errors for a client.
    const curl = rx.spans().filter((x) => x.kind === 3 && x.resource['process.executable.name'] === 'curl' && x.attributes['server.port'] === server.port);
    await rx.waitFor(() => rx.spans().filter((x) => x.kind === 3 && x.resource['process.executable.name'] === 'curl' && x.attributes['server.port'] === server.port).length >= 5, { what: 'curl client spans' });
    const cs = rx.spans().filter((x) => x.kind === 3 && x.resource['process.executable.name'] === 'curl' && x.attributes['server.port'] === server.port);
    assert.equal(cs.length, 5, `curl spans ${curl.length}`);
    assert.deepEqual(cs.map((x) => x.status.code), [0, 0, 0, 2, 2]);
    assert.equal(cs[0].attributes['url.full'], `http://127.0.0.1:${server.port}/users/1`);
  });

  it('ids made in the kernel: every span its own span id, every unparented request its own trace id, none zero', async () => {
    const n = 200;
    const urls = Array.from({ length: n }, (_, i) => `http://127.0.0.1:${server.port}/ids/${i}`);
    const before = serverSpans(rx, server.pid).length;
    execFileSync('curl', ['-s', '-o', '/dev/null', ...urls]);
    const ours = () => serverSpans(rx, server.pid).slice(before).filter((s) => String(s.attributes['url.path']).startsWith('/ids/'));
    const curl = () => rx.spans().filter((s) => s.kind === 3 && s.resource['process.executable.name'] === 'curl' && String(s.attributes['url.path']).startsWith('/ids/') && s.attributes['server.port'] === server.port);
    await rx.waitFor(() => ours().length >= n && curl().length >= n, { what: `${n} server and ${n} curl spans` });
    const spans = [...ours(), ...curl()];
    assert.equal(spans.length, 2 * n);
    for (const s of spans) {
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.notEqual(s.traceId, '0'.repeat(32));
      assert.notEqual(s.spanId, '0'.repeat(16));
    }
    assert.equal(new Set(spans.map((s) => s.spanId)).size, 2 * n, 'span ids are distinct');
    // curl sends no traceparent and serves nothing: each side starts its own trace per request
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 2 * n, 'trace ids are distinct');
  });

  it('pipelined requests on a raw socket are answered and paired in order', async () => {
    const before = serverSpans(rx, server.pid).length;
    const reqs = [1, 2, 3].map((i) => `GET /pipe/${i}/x HTTP/1.1\r\nHost: a\r\n\r\n`).join('') + 'GET /pipe/4/last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const resp = await rawExchange(server.port, reqs);
    assert.equal(resp.match(/HTTP\/1.1 200/g)?.length, 4);
    await rx.waitFor(() => serverSpans(rx, server.pid).length >= before + 4, { what: '4 pipelined spans' });
    await new Promise((r) => setTimeout(r, 300));
    const spans = serverSpans(rx, server.pid).slice(before);
    // One read holds all four heads: the kernel queues four requests, answered in order.
    assert.equal(spans.length, 4);
    assert.deepEqual(spans.map((s) => s.attributes['url.path']), ['/pipe/1/x', '/pipe/2/x', '/pipe/3/x', '/pipe/4/last']);
    for (let i = 1; i < 4; i++) assert.ok(spans[i].endTimeUnixNano >= spans[i - 1].endTimeUnixNano);
  });

  it('requests split across writes, chunked and 1 MB responses end at their last byte', async () => {
    const before = serverSpans(rx, server.pid).length;
    const split = await rawExchange(server.port, 'GET /split/7 HT', 'TP/1.1\r\nHost: a\r\n', 'Connection: close\r\n\r\n');
    assert.match(split, /^HTTP\/1.1 200/);
    execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${server.port}/chunked`, `http://127.0.0.1:${server.port}/big`]);
    await rx.waitFor(() => serverSpans(rx, server.pid).length >= before + 3, { what: 'split, chunked, big' });
    const [sp, ch, big] = serverSpans(rx, server.pid).slice(before);
    assert.equal(sp.name, 'GET /split/{id}');
    assert.ok(ms(sp) >= 50, `split request spans its writes: ${ms(sp)} ms`);
    assert.equal(ch.name, 'GET /chunked');
    assert.ok(ms(ch) >= 45, `chunked ends at the terminator, after 5 × 10 ms: ${ms(ch)} ms`);
    assert.equal(big.name, 'GET /big');
    assert.equal(big.attributes['http.response.status_code'], 200);
    let last: unknown;
    await rx.waitFor(() => {
      const p = [...latestPoints(rx.metrics(), 'http.server.response.body.size', { 'http.route': '/big' }, { resource: { 'process.pid': server.pid } }).values()][0];
      last = p?.point;
      return p !== undefined && (p.point as { sum?: number }).sum === 1 << 20;
    }, { what: 'response body size of /big = 1 MiB' }).catch((e: Error) => { throw new Error(`${e.message}\nlast point: ${JSON.stringify(last, (_k, v) => typeof v === 'bigint' ? String(v) : v)}`); });
  });

  it('a request head longer than the 512-byte parse window still opens an exchange', async () => {
    const before = serverSpans(rx, server.pid).length;
    execFileSync('curl', ['-s', '-o', '/dev/null', '-H', `X-Pad: ${'p'.repeat(700)}`, `http://127.0.0.1:${server.port}/long/head`]);
    await rx.waitFor(() => serverSpans(rx, server.pid).length >= before + 1, { what: 'the long-head span' });
    const s = serverSpans(rx, server.pid)[before];
    assert.equal(s.attributes['url.path'], '/long/head');
    assert.equal(s.attributes['http.response.status_code'], 200);
  });

  it('a connection closed mid-exchange ends the span with an error', async () => {
    const before = serverSpans(rx, server.pid).length;
    await new Promise<void>((resolve) => {
      const sock = connect(server.port, '127.0.0.1', () => {
        sock.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
        setTimeout(() => { sock.resetAndDestroy(); resolve(); }, 50);
      });
    });
    await rx.waitFor(() => serverSpans(rx, server.pid).length >= before + 1, { timeoutMs: 10_000, what: 'closed span' });
    const s = serverSpans(rx, server.pid)[before];
    assert.equal(s.name, 'GET /slow');
    assert.equal(s.status.code, 2);
    assert.equal(s.attributes['error.type'], 'connection_closed');
  });

  it('an exchange ended by the peer\'s reset names its own process, not the task that ran the reset', async () => {
    // The reset reaches the server's socket in the client's task (loopback softirq), where the
    // record is emitted. The server exits before the agent reads it, so the process's name can
    // come only from the record; the agent is stopped meanwhile so that order is certain.
    const server = `
import socket, sys
open('/proc/self/comm', 'w').write('kotel-rst-srv')
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept(); c.recv(1024)
try:
    c.recv(1024)
except OSError:
    pass
`;
    const client = `
import socket, struct, sys
open('/proc/self/comm', 'w').write('kotel-rst-cli')
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'GET /reset-owner HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n')
import time; time.sleep(0.2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()
`;
    const { spawn } = await import('node:child_process');
    const srv = spawn('python3', ['-c', server], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve) => srv.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const spansOf = () => rx.spans().filter((s) => s.kind === 2 && s.name === 'GET /reset-owner');
    process.kill(agent.child.pid!, 'SIGSTOP');
    try {
      execFileSync('python3', ['-c', client, port]);
      await new Promise((resolve) => srv.once('exit', resolve));
    } finally {
      process.kill(agent.child.pid!, 'SIGCONT');
    }
    await rx.waitFor(() => spansOf().length >= 1, { timeoutMs: 10_000, what: 'the reset exchange\'s server span' });
    const [s] = spansOf();
    assert.equal(s.attributes['error.type'], 'connection_closed');
    assert.equal(s.resource['process.pid'], srv.pid);
    assert.equal(s.resource['process.executable.name'], 'kotel-rst-srv');
  });

  it('fd and socket reuse: sequential connections, alternately completed and reset mid-exchange, never inherit state', async () => {
    const before = serverSpans(rx, server.pid).length;
    const ports: number[] = [];
    const n = 30;
    for (let i = 0; i < n; i++) {
      // The server's accept returns the lowest free fd: every connection reuses the last one's
      // fd (and, freed and reallocated, most likely its socket's address).
      await new Promise<void>((resolve, reject) => {
        const sock = connect(server.port, '127.0.0.1', () => {
          ports.push(sock.localPort!);
          if (i % 2 === 0) {
            sock.write(`GET /reuse/${i}/done HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
          } else {
            sock.write(`GET /slow/reuse/${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
            setTimeout(() => { sock.resetAndDestroy(); resolve(); }, 30);
          }
        });
        sock.on('error', reject);
        sock.on('data', () => {});
        sock.on('end', () => resolve());
      });
    }
    await rx.waitFor(() => serverSpans(rx, server.pid).length >= before + n, { timeoutMs: 15_000, what: `${n} reuse spans` });
    await new Promise((r) => setTimeout(r, 300));   // a stale pairing would add spans late
    const spans = serverSpans(rx, server.pid).slice(before);
    assert.equal(spans.length, n);
    const byPort = new Map(spans.map((s) => [s.attributes['network.peer.port'], s]));
    for (let i = 0; i < n; i++) {
      const s = byPort.get(ports[i]);
      assert.ok(s, `a span for connection ${i} (port ${ports[i]})`);
      if (i % 2 === 0) {
        assert.equal(s.attributes['url.path'], `/reuse/${i}/done`);
        assert.equal(s.attributes['http.response.status_code'], 200);
        assert.equal(s.status.code, 0);
      } else {
        assert.equal(s.attributes['url.path'], `/slow/reuse/${i}`);
        assert.equal(s.attributes['error.type'], 'connection_closed');
        assert.equal(s.attributes['http.response.status_code'], undefined);
      }
    }
  });

  it('a request the server reads only after the client reset the connection ends with an error, and the next connection starts clean', async () => {
    // This process is the server: it accepts paused, so it reads each request only after the
    // reset (the kernel still hands over data queued before it). The close was seen first, so
    // nothing but that read can end the request; and on the syscall path, the state it opens
    // must not survive into the next socket allocated at the same address.
    const late = createServer({ pauseOnConnect: true });
    const accepted: Array<Socket> = [];
    late.on('connection', (s) => { s.on('error', () => {}); accepted.push(s); });
    await new Promise<void>((r) => late.listen(0, '127.0.0.1', r));
    const port = (late.address() as { port: number }).port;
    const mine = () => rx.spans().filter((s) => s.resource['process.pid'] === process.pid && s.kind === 2 && s.attributes['server.port'] === port);
    const expected: Array<{ port: number; path: string; closed: boolean }> = [];
    const n = 6;
    try {
      for (let i = 0; i < n; i++) {
        const client = await new Promise<Socket>((resolve) => { const c = connect(port, '127.0.0.1', () => resolve(c)); c.on('error', () => {}); });
        while (accepted.length < 2 * i + 1) await new Promise((r) => setTimeout(r, 5));
        const path = `/late/${i}`;
        expected.push({ port: client.localPort!, path, closed: true });
        await new Promise((r) => client.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, r));
        await new Promise((r) => setTimeout(r, 20));
        client.resetAndDestroy();
        await new Promise((r) => setTimeout(r, 20));
        const srv = accepted[2 * i];
        await new Promise<void>((r) => { srv.once('close', () => r()); srv.resume(); });
        // An ordinary exchange on a fresh connection right after.
        const next = `/after/${i}`;
        const answered = new Promise<void>((resolve) => {
          const c = connect(port, '127.0.0.1', () => {
            expected.push({ port: c.localPort!, path: next, closed: false });
            c.write(`GET ${next} HTTP/1.1\r\nHost: a\r\n\r\n`);
          });
          c.on('data', () => {});
          c.on('end', () => resolve());
        });
        while (accepted.length < 2 * i + 2) await new Promise((r) => setTimeout(r, 5));
        const s2 = accepted[2 * i + 1];
        s2.once('data', () => s2.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
        s2.resume();
        await answered;
      }
      await rx.waitFor(() => mine().length >= 2 * n, { timeoutMs: 10_000, what: `${2 * n} spans of the late-read server` });
      await new Promise((r) => setTimeout(r, 300));   // a stale pairing would add spans late
      const spans = mine();
      assert.equal(spans.length, 2 * n);
      for (const e of expected) {
        const s = spans.find((x) => x.attributes['network.peer.port'] === e.port);
        assert.ok(s, `a span for ${e.path} (peer port ${e.port}); spans: ${spans.map((x) => `${x.attributes['url.path']}@${x.attributes['network.peer.port']}`).join(' ')}`);
        assert.equal(s.attributes['url.path'], e.path);
        if (e.closed) {
          assert.equal(s.attributes['error.type'], 'connection_closed');
          assert.equal(s.status.code, 2);
        } else {
          assert.equal(s.attributes['http.response.status_code'], 200);
          assert.equal(s.status.code, 0);
        }
      }
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise((r) => late.close(r));
    }
  });

  it('http.server.request.duration counts every request', async () => {
    const total = rx.spans().filter((s) => s.resource['process.pid'] === server.pid && s.kind === 2).length;
    await rx.waitFor(() => {
      let n = 0;
      for (const p of latestPoints(rx.metrics(), 'http.server.request.duration', undefined, { resource: { 'process.pid': server.pid } }).values()) n += Number((p.point as { count?: number }).count ?? 0);
      return n === total;
    }, { timeoutMs: 10_000, what: `duration histogram count = ${total}` });
  });

  it('runs the kernel skipped (recursion) are reported per attached program, with kotel\'s resource', async () => {
    const attached = /http\(([^)]+)\)/.exec(agent.stderr())![1];   // e.g. tp_btf/sock_send_length+sock_recv_length
    let programs: string[] = [];
    await rx.waitFor(() => {
      const found = latestPoints(rx.metrics(), 'kotel.receiver.dropped', { 'kotel.receiver': 'http', 'kotel.reason': 'program_recursion' }, { resource: { 'service.name': 'kotel' } });
      programs = [...found.values()].map((f) => String(f.point.attributes['kotel.bpf.program']));
      return programs.length >= 2;
    }, { what: 'kotel.receiver.dropped{program_recursion} points' }).catch((e: Error) => { throw new Error(`${e.message}\nhooks ${attached}, programs so far: ${programs.join(', ')}`); });
    // One point per program of the capture path (the data hooks and the close hook), TLS uprobes aside.
    assert.ok(programs.some((p) => /sock_state/.test(p)), `the close hook among ${programs.join(', ')}`);
    assert.ok(programs.some((p) => /sock_(send|recv)|sys_exit/.test(p)), `a data hook among ${programs.join(', ')}`);
  });

  it('traceparent over two hops: client → node proxy → node upstream, one trace', async () => {
    const upstream = await startNodeServer();
    const proxy = await startNodeServer(upstream.port);
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = '00f067aa0ba902b7';
      execFileSync('curl', ['-s', '-o', '/dev/null', '-H', `traceparent: 00-${traceId}-${parent}-01`, `http://127.0.0.1:${proxy.port}/proxy/orders/99`]);
      await rx.waitFor(() => serverSpans(rx, upstream.pid).length >= 1 && serverSpans(rx, proxy.pid).length >= 1 && clientSpans(rx, proxy.pid).length >= 1, { what: 'three spans' });
      const ps = serverSpans(rx, proxy.pid)[0];
      const pc = clientSpans(rx, proxy.pid)[0];
      const us = serverSpans(rx, upstream.pid)[0];
      assert.equal(ps.traceId, traceId);
      assert.equal(ps.parentSpanId, parent);
      assert.equal(ps.name, 'GET /proxy/orders/{id}');
      assert.equal(pc.traceId, traceId, 'the proxy\'s client span is in the same trace');
      assert.equal(pc.parentSpanId, ps.spanId, 'child of the server request the thread was serving');
      assert.equal(pc.name, 'GET /orders/{id}');
      assert.equal(us.traceId, traceId, 'the upstream server span continues the trace');
      assert.ok(pc.startTimeUnixNano >= ps.startTimeUnixNano && pc.endTimeUnixNano <= ps.endTimeUnixNano);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });

  it('IPv6: a server on ::1', async () => {
    const v6 = await startNodeServer(undefined, '::1');
    try {
      execFileSync('curl', ['-s', '-o', '/dev/null', `http://[::1]:${v6.port}/v6/1`]);
      await rx.waitFor(() => serverSpans(rx, v6.pid).length >= 1, { what: 'IPv6 span' });
      const s = serverSpans(rx, v6.pid)[0];
      assert.equal(s.attributes['client.address'], '::1');
      assert.equal(s.attributes['network.peer.address'], '::1');
    } finally {
      await v6.stop();
    }
  });
});
