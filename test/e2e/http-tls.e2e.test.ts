// End to end over HTTPS: uprobes on OpenSSL's SSL_read/SSL_write in libssl.so.3 (nginx, curl)
// and in node binaries that link OpenSSL statically (node 24 server, node 20 client). Counts are
// exact against the servers' own access log or counter.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OtlpReceiver, type Span } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { freePort, httpConfig, type Nginx, type NodeServer } from './http-fixtures/helpers.ts';
import {
  PYTHON, runNodeHttpsClient, runPythonHttpsClient, selfSignedCert, startNginxTls, startNodeHttpsServer, startPythonHttpsServer,
} from './http-fixtures/tls.ts';

const SERVER = 2, CLIENT = 3;
const NODE20 = '/usr/bin/node';
const KOTEL = new URL('../../bin/kotel.js', import.meta.url).pathname;
// Listed on purpose: a binary without OpenSSL symbols and a missing one are reported, not fatal.
const NOT_PROBEABLE = ['/usr/bin/curl', '/nonexistent/bin/node'];
const tlsSettings = (hooks: string) => `{ hooks: ${hooks}, tls: { binaries: [${[process.execPath, ...NOT_PROBEABLE].join(', ')}] } }`;
// /__ready (startup probe) and /count (reading the server's counter) are not counted requests.
const counted = (s: Span) => !String(s.attributes['url.path']).startsWith('/__ready') && s.attributes['url.path'] !== '/count';
const spansOf = (rx: OtlpReceiver, pid: number, kind: number) => rx.spans().filter((s: Span) => s.resource['process.pid'] === pid && s.kind === kind && counted(s));
const onPort = (rx: OtlpReceiver, port: number) => rx.spans().filter((s) => s.attributes['server.port'] === port || s.attributes['network.peer.port'] === port);
const curlSpans = (rx: OtlpReceiver, port: number) => rx.spans().filter((s) => s.kind === CLIENT && s.resource['process.executable.name'] === 'curl' && s.attributes['server.port'] === port && counted(s));

// The TLS socket binding learns from socket I/O: on the sock tracepoints and on the syscall fallback.
// The uprobes are uprobe_multi links where the kernel has them (6.6+); the syscall-fallback suite runs
// as an older kernel would, with one perf-event uprobe per probe.
const PATHS = [
  { hooks: 'sock', env: {}, links: 'uprobe_multi links' },
  { hooks: 'syscalls', env: { KOTEL_TEST_NO_UPROBE_MULTI: '1' }, links: 'perf-event uprobes' },
] as const;
for (const { hooks, env, links } of PATHS) describe(`e2e: http receiver over HTTPS (OpenSSL uprobes: libssl.so.3 and node; ${links}), hooks: ${hooks}`, function () {
  this.timeout(120_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  let nginx: Nginx;
  let server: NodeServer;

  before(async function () {
    rx = await OtlpReceiver.start({ httpPort: null });
    // Default discovery finds libssl.so.3 and the system node; this test's node 24 is listed.
    agent = await startAgent(httpConfig(rx.grpcEndpoint, tlsSettings(hooks)), env);
    nginx = await startNginxTls();
    server = await startNodeHttpsServer(selfSignedCert());
  });

  after(async () => {
    await nginx?.stop();
    await server?.stop();
    const code = await agent?.stop();
    await rx?.stop();
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('names the probed files, and each file it cannot probe with the reason', () => {
    const err = agent.stderr();
    assert.match(err, new RegExp(`HTTPS through uprobes \\(${links}\\) on .*libssl\\.so\\.3`));
    assert.ok(err.includes(process.execPath), err);
    if (existsSync(NODE20)) assert.ok(err.includes(NODE20), err);   // the system node, where the host has one
    assert.match(err, /warn: http: TLS: not probing \/usr\/bin\/curl \(config\): no symbol SSL_read, SSL_write/);
    assert.match(err, /warn: http: TLS: not probing \/nonexistent\/bin\/node \(config\): cannot be read \(ENOENT\)/);
  });

  it('kotel check lists the TLS uprobes; files it cannot probe do not fail the receiver', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotel-cfg-'));
    writeFileSync(join(dir, 'c.yaml'), httpConfig('http://127.0.0.1:4317', tlsSettings(hooks)));
    const { stdout } = await promisify(execFile)(process.execPath, [KOTEL, 'check', '--config', join(dir, 'c.yaml')], { encoding: 'utf8' });
    assert.match(stdout, /receiver http: can run/);
    assert.match(stdout, /ok\s+TLS uprobes \S*libssl\.so\.3: ssl_read_internal \(SSL_read, SSL_read_ex\), ssl_write_internal \(SSL_write, SSL_write_ex\), SSL_shutdown, SSL_free/);
    assert.ok(stdout.includes(`ok   TLS uprobes ${process.execPath}: SSL_read, SSL_read_ex, SSL_write, SSL_write_ex, SSL_shutdown, SSL_free`), stdout);
    assert.match(stdout, /off\s+TLS uprobes \/usr\/bin\/curl: no symbol SSL_read, SSL_write .*\(config\)/);
    assert.match(stdout, /off\s+TLS uprobes \/nonexistent\/bin\/node: cannot be read \(ENOENT\)/);
  });

  it('curl → nginx over one keep-alive TLS connection: one server and one client span per request, https', async () => {
    const base = `https://127.0.0.1:${nginx.port}`;
    const paths = ['/1k.txt', '/missing/12', '/1k.txt', '/1k.txt', '/nope'];
    const out = execFileSync('curl', ['-sk', '--http1.1', ...paths.flatMap((p) => ['-o', '/dev/null', `${base}${p}`]), '-w', '%{http_code} %{num_connects} %{local_port}\\n'], { encoding: 'utf8' });
    const lines = out.trim().split('\n').map((l) => l.split(' '));
    assert.deepEqual(lines.map((l) => l[0]), ['200', '404', '200', '200', '404']);
    assert.equal(lines.filter((l) => l[1] === '1').length, 1, 'curl reused one connection');
    const worker = nginx.workerPid();
    const served = nginx.accessLog().length;
    assert.equal(served, paths.length);
    await rx.waitFor(() => spansOf(rx, worker, SERVER).length >= served && curlSpans(rx, nginx.port).length >= served, { what: `${served} nginx and curl spans` });
    await new Promise((r) => setTimeout(r, 300));
    const spans = spansOf(rx, worker, SERVER);
    assert.equal(spans.length, served);
    assert.deepEqual(spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['url.scheme']]),
      [['GET /1k.txt', 200, 'https'], ['GET /missing/{id}', 404, 'https'], ['GET /1k.txt', 200, 'https'], ['GET /1k.txt', 200, 'https'], ['GET /nope', 404, 'https']]);
    const s = spans[0];
    assert.equal(s.resource['process.executable.name'], 'nginx');
    assert.equal(s.attributes['http.request.method'], 'GET');
    assert.equal(s.attributes['url.path'], '/1k.txt');
    // The 4-tuple was learned from the socket I/O nginx did inside SSL_read/SSL_write.
    assert.equal(s.attributes['server.port'], nginx.port);
    assert.equal(s.attributes['client.address'], '127.0.0.1');
    assert.equal(s.attributes['network.peer.port'], Number(lines[0][2]));
    const cs = curlSpans(rx, nginx.port);
    assert.equal(cs.length, served);
    assert.deepEqual(cs.map((x) => [x.attributes['url.full'], x.status.code]), paths.map((p, i) => [`${base}${p}`, lines[i][0] === '404' ? 2 : 0]));
    assert.equal(cs[0].attributes['network.peer.port'], nginx.port);
    // The encrypted bytes on the socket never became an exchange of their own.
    assert.equal(onPort(rx, nginx.port).filter((x) => x.attributes['url.scheme'] !== 'https').length, 0);
  });

  it('connection after connection (nginx reuses freed SSL objects): each span carries its own connection', async () => {
    const worker = nginx.workerPid();
    const before = spansOf(rx, worker, SERVER).length;
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) {
      ports.push(Number(execFileSync('curl', ['-sk', '--http1.1', '-o', '/dev/null', '-w', '%{local_port}', `https://127.0.0.1:${nginx.port}/1k.txt?c=${i}`], { encoding: 'utf8' })));
    }
    await rx.waitFor(() => spansOf(rx, worker, SERVER).length >= before + 4, { what: '4 server spans' });
    await new Promise((r) => setTimeout(r, 300));
    const spans = spansOf(rx, worker, SERVER).slice(before);
    assert.deepEqual(spans.map((s) => [s.attributes['network.peer.port'], s.attributes['http.response.status_code'], s.status.code]), ports.map((p) => [p, 200, 0]));
  });

  it('node 20 client → node 24 server (OpenSSL inside node): exact counts, traceparent makes the server span a child', async function () {
    if (!existsSync(NODE20)) this.skip();   // the host has no system node 20 to act as the second node binary
    const before = await server.count();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736', parent = '00f067aa0ba902b7';
    const paths = ['/a/1', '/a/2', `/traced@00-${traceId}-${parent}-01`, '/fail', '/a/3'];
    const client = await runNodeHttpsClient(NODE20, server.port, paths);
    assert.deepEqual(client.lines.map((l) => l.split(' ')[0]), ['200', '200', '200', '503', '200']);
    assert.equal(new Set(client.lines.map((l) => l.split(' ')[1])).size, 1, 'one keep-alive connection');
    const served = (await server.count()) - before;
    assert.equal(served, paths.length);
    await rx.waitFor(() => spansOf(rx, server.pid, SERVER).length >= served && spansOf(rx, client.pid, CLIENT).length >= served, { what: `${served} server and client spans` });
    await new Promise((r) => setTimeout(r, 300));
    const spans = spansOf(rx, server.pid, SERVER);
    assert.equal(spans.length, served);
    assert.deepEqual(spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['url.scheme'], s.status.code]),
      [['GET /a/{id}', 200, 'https', 0], ['GET /a/{id}', 200, 'https', 0], ['GET /traced', 200, 'https', 0], ['GET /fail', 503, 'https', 2], ['GET /a/{id}', 200, 'https', 0]]);
    const traced = spans[2];
    assert.equal(traced.traceId, traceId);
    assert.equal(traced.parentSpanId, parent);
    assert.equal(traced.attributes['server.port'], server.port);
    // node's memory BIO: the socket is read before SSL_read, written after SSL_write.
    const clientPort = Number(client.lines[0].split(' ')[1]);
    assert.deepEqual(spans.map((s) => s.attributes['network.peer.port']), paths.map(() => clientPort));
    const cs = spansOf(rx, client.pid, CLIENT);
    assert.equal(cs.length, served);
    assert.deepEqual(cs.map((s) => s.attributes['url.full']), paths.map((p) => `https://127.0.0.1:${server.port}${p.split('@')[0]}`));
    assert.deepEqual(cs.map((s) => s.attributes['network.peer.port']), paths.map(() => server.port));
    // The client's own traceparent is kept: its span is the server span's parent.
    assert.equal(cs[2].traceId, traceId);
    assert.equal(cs[2].spanId, parent);
    assert.equal(cs[3].status.code, 2);
  });

  it('python (SSL_read_ex/SSL_write_ex via libssl.so.3): server and client spans, exact counts', async function () {
    if (!existsSync(PYTHON)) this.skip();   // no python3 on the host (scripts/setup.sh installs it)
    const py = await startPythonHttpsServer(selfSignedCert());
    try {
      const paths = ['/p/1', '/p/2', '/missing', '/p/3'];
      const client = await runPythonHttpsClient(py.port, paths);
      assert.deepEqual(client.lines.map((l) => l.split(' ')[0]), ['200', '200', '404', '200']);
      assert.equal(new Set(client.lines.map((l) => l.split(' ')[1])).size, 1, 'one keep-alive connection');
      await rx.waitFor(() => spansOf(rx, py.pid, SERVER).length >= paths.length && spansOf(rx, client.pid, CLIENT).length >= paths.length, { what: 'python spans' });
      await new Promise((r) => setTimeout(r, 300));
      const spans = spansOf(rx, py.pid, SERVER);
      assert.deepEqual(spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['url.scheme']]),
        [['GET /p/{id}', 200, 'https'], ['GET /p/{id}', 200, 'https'], ['GET /missing', 404, 'https'], ['GET /p/{id}', 200, 'https']]);
      assert.deepEqual(spans.map((s) => s.attributes['network.peer.port']), paths.map(() => Number(client.lines[0].split(' ')[1])));
      const cs = spansOf(rx, client.pid, CLIENT);
      assert.deepEqual(cs.map((s) => [s.attributes['url.path'], s.attributes['http.response.status_code'], s.attributes['network.peer.port']]),
        paths.map((p, i) => [p, Number(client.lines[i].split(' ')[0]), py.port]));
    } finally {
      await py.stop();
    }
  });

  it('openssl s_server -www (reads through BIO_f_ssl, i.e. the internal function probed in libssl)', async () => {
    const cert = selfSignedCert();
    const port = await freePort();
    const srv = spawn('openssl', ['s_server', '-www', '-quiet', '-accept', `127.0.0.1:${port}`, '-cert', cert.cert, '-key', cert.key], { stdio: 'ignore' });
    try {
      let status = '';
      for (let i = 0; i < 100 && status !== '200'; i++) {
        try { status = execFileSync('curl', ['-sk', '--http1.1', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${port}/stats/1`], { encoding: 'utf8' }); } catch { await new Promise((r) => setTimeout(r, 50)); }
      }
      assert.equal(status, '200');
      await rx.waitFor(() => spansOf(rx, srv.pid!, SERVER).length >= 1, { what: 's_server span' });
      const [s] = spansOf(rx, srv.pid!, SERVER);
      // HTTP/1.0 without Content-Length: the response ends with the connection (SSL_shutdown/close).
      assert.deepEqual([s.name, s.attributes['http.response.status_code'], s.attributes['url.scheme'], s.status.code], ['GET /stats/{id}', 200, 'https', 0]);
    } finally {
      srv.kill();
    }
  });

  it('a TLS connection closed mid-exchange ends the server span with an error', async () => {
    const before = spansOf(rx, server.pid, SERVER).length;
    // curl gives up after 300 ms; the server answers /slow after 1.5 s, on a closed connection.
    try { execFileSync('curl', ['-sk', '--http1.1', '--max-time', '0.3', `https://127.0.0.1:${server.port}/slow`]); } catch { /* timed out, as intended */ }
    await rx.waitFor(() => spansOf(rx, server.pid, SERVER).length >= before + 1, { timeoutMs: 15_000, what: 'the /slow server span' });
    const s = spansOf(rx, server.pid, SERVER)[before];
    assert.equal(s.name, 'GET /slow');
    assert.equal(s.status.code, 2);
    assert.equal(s.attributes['error.type'], 'connection_closed');
    // curl's side: it closed the connection (SSL_free, then the socket) with no response.
    await rx.waitFor(() => curlSpans(rx, server.port).some((x) => x.attributes['url.path'] === '/slow'), { what: 'the /slow curl span' });
    const c = curlSpans(rx, server.port).filter((x) => x.attributes['url.path'] === '/slow');
    assert.equal(c.length, 1);
    assert.equal(c[0].attributes['error.type'], 'connection_closed');
  });
});
