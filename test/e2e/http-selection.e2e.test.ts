// End to end: the http receiver's selection (server, client, ports) on the real kernel. Two agents
// watch the same traffic, one following only what server A answers, one only what clients send to
// server B; curl alternates between A and B on one invocation, so each agent's positive spans prove
// that the exchanges it had to leave out came and went before them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { OtlpReceiver, latestPoints, type Span } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';
import { httpConfig, startNodeServer, type NodeServer } from './http-fixtures/helpers.ts';
import { existsSync } from 'node:fs';
import { runNodeHttpsClient, selfSignedCert, startNodeHttpsServer } from './http-fixtures/tls.ts';

const HOOKS = ['sock', 'syscalls'];
const NODE20 = '/usr/bin/node';
const isCurl = (s: Span) => s.kind === 3 && s.resource['process.executable.name'] === 'curl';

/** Servers first (their connections end), then the agents (exit 0 each), then the receivers. */
async function stopAll(servers: Array<NodeServer | undefined>, agents: AgentProcess[], receivers: Array<OtlpReceiver | undefined>): Promise<void> {
  for (const server of servers) await server?.stop();
  const codes = [];
  for (const agent of agents) codes.push(await agent.stop());
  for (const rx of receivers) await rx?.stop();
  assert.deepEqual(codes, agents.map(() => 0), `agent exit codes; stderr:\n${agents.map((x) => x.stderr()).join('\n')}`);
}

for (const hooks of HOOKS) describe(`e2e: http receiver selection (server, client, ports), hooks: ${hooks}`, function () {
  this.timeout(120_000);
  let a: NodeServer, b: NodeServer;
  let rxServerA: OtlpReceiver, rxClientB: OtlpReceiver;
  let agents: AgentProcess[] = [];

  before(async () => {
    [a, b] = [await startNodeServer(), await startNodeServer()];
    [rxServerA, rxClientB] = [await OtlpReceiver.start({ httpPort: null }), await OtlpReceiver.start({ httpPort: null })];
    agents = [
      await startAgent(httpConfig(rxServerA.grpcEndpoint, `{ hooks: ${hooks}, client: false, ports: [${a.port}] }`)),
      await startAgent(httpConfig(rxClientB.grpcEndpoint, `{ hooks: ${hooks}, server: false, ports: [${b.port}] }`)),
    ];
  });

  after(() => stopAll([a, b], agents, [rxServerA, rxClientB]));

  it('names the selection when it starts', () => {
    assert.match(agents[0].stderr(), new RegExp(`http: following server exchanges only \\(client: false\\) on server port ${a.port}`));
    assert.match(agents[1].stderr(), new RegExp(`http: following client requests only \\(server: false\\) on server port ${b.port}`));
  });

  it('follows only the selected side on the selected port', async () => {
    const urls = [1, 2, 3].flatMap((i) => [`http://127.0.0.1:${a.port}/a/${i}`, `http://127.0.0.1:${b.port}/b/${i}`]);
    execFileSync('curl', ['-s', '-o', '/dev/null', ...urls]);

    // server A's answers, and nothing curl sent
    const aServed = () => rxServerA.spans().filter((s) => s.kind === 2 && s.resource['process.pid'] === a.pid && s.name !== 'GET /count');
    await rxServerA.waitFor(() => aServed().length >= 3, { what: 'server A spans' });
    assert.deepEqual(aServed().map((s) => s.attributes['url.path']), ['/a/1', '/a/2', '/a/3']);
    assert.deepEqual(rxServerA.spans().filter((s) => s.resource['process.pid'] === b.pid).map((s) => s.name), [], 'server B is on another port');
    assert.deepEqual(rxServerA.spans().filter(isCurl).map((s) => s.name), [], 'client: false');

    // curl's requests to B, and nothing a server answered
    const toB = () => rxClientB.spans().filter((s) => isCurl(s) && s.attributes['server.port'] === b.port);
    await rxClientB.waitFor(() => toB().length >= 3, { what: 'curl client spans to B' });
    assert.deepEqual(toB().map((s) => s.attributes['url.full']), [1, 2, 3].map((i) => `http://127.0.0.1:${b.port}/b/${i}`));
    assert.deepEqual(rxClientB.spans().filter(isCurl).filter((s) => s.attributes['server.port'] !== b.port).map((s) => s.name), [], 'A is on another port');
    assert.deepEqual(rxClientB.spans().filter((s) => s.kind === 2).map((s) => s.name), [], 'server: false');
  });

  it('the duration metrics follow the same selection', async () => {
    const count = (rx: OtlpReceiver, name: string, pid: number) => {
      let n = 0;
      for (const p of latestPoints(rx.metrics(), name, undefined, { resource: { 'process.pid': pid } }).values()) n += Number((p.point as { count?: number }).count ?? 0);
      return n;
    };
    await rxServerA.waitFor(() => count(rxServerA, 'http.server.request.duration', a.pid) === 3, { timeoutMs: 10_000, what: 'A: 3 server durations' });
    await rxClientB.waitFor(() => latestPoints(rxClientB.metrics(), 'http.client.request.duration').size > 0, { timeoutMs: 10_000, what: 'client durations' });
    assert.equal(latestPoints(rxServerA.metrics(), 'http.client.request.duration').size, 0, 'client: false');
    assert.equal(latestPoints(rxClientB.metrics(), 'http.server.request.duration').size, 0, 'server: false');
  });
});

// Over TLS the kernel tests the port where it knows the socket at the connection's first request;
// node's client writes through a memory BIO, so its socket is learnt only after the first SSL_write
// and user space tests those records.
describe('e2e: http receiver selection over HTTPS (node client and servers, OpenSSL uprobes)', function () {
  this.timeout(120_000);
  let a: NodeServer, b: NodeServer;
  let rxServerA: OtlpReceiver, rxClientB: OtlpReceiver;
  let agents: AgentProcess[] = [];
  const tls = `tls: { binaries: [${process.execPath}] }`;

  before(async function () {
    if (!existsSync(NODE20)) this.skip();   // the host has no system node 20 to act as the client
    const cert = selfSignedCert();
    [a, b] = [await startNodeHttpsServer(cert), await startNodeHttpsServer(cert)];
    [rxServerA, rxClientB] = [await OtlpReceiver.start({ httpPort: null }), await OtlpReceiver.start({ httpPort: null })];
    agents = [
      await startAgent(httpConfig(rxServerA.grpcEndpoint, `{ client: false, ports: [${a.port}], ${tls} }`)),
      await startAgent(httpConfig(rxClientB.grpcEndpoint, `{ server: false, ports: [${b.port}], ${tls} }`)),
    ];
  });

  after(() => stopAll([a, b], agents, [rxServerA, rxClientB]));

  it('follows only the selected side on the selected port', async () => {
    const toA = await runNodeHttpsClient(NODE20, a.port, ['/a/1', '/a/2']);
    const toB = await runNodeHttpsClient(NODE20, b.port, ['/b/1', '/b/2']);
    const toA2 = await runNodeHttpsClient(NODE20, a.port, ['/a/3']);
    const served = (rx: OtlpReceiver, pid: number) => rx.spans().filter((s) => s.kind === 2 && s.resource['process.pid'] === pid && s.attributes['url.path'] !== '/count' && !String(s.attributes['url.path']).startsWith('/__ready'));
    const sent = (rx: OtlpReceiver, pid: number) => rx.spans().filter((s) => s.kind === 3 && s.resource['process.pid'] === pid);

    await rxServerA.waitFor(() => served(rxServerA, a.pid).length >= 3, { what: 'server A spans' });
    assert.deepEqual(served(rxServerA, a.pid).map((s) => s.attributes['url.path']), ['/a/1', '/a/2', '/a/3']);
    assert.deepEqual(served(rxServerA, b.pid).map((s) => s.name), [], 'server B is on another port');
    assert.deepEqual([toA, toB, toA2].flatMap((c) => sent(rxServerA, c.pid)).map((s) => s.name), [], 'client: false');

    await rxClientB.waitFor(() => sent(rxClientB, toB.pid).length >= 2, { what: 'client spans to B' });
    // the first request to A ran before the socket was known: the kernel let it through, user space did not
    assert.deepEqual(sent(rxClientB, toB.pid).map((s) => s.attributes['url.full']), ['/b/1', '/b/2'].map((p) => `https://127.0.0.1:${b.port}${p}`));
    assert.deepEqual([toA, toA2].flatMap((c) => sent(rxClientB, c.pid)).map((s) => s.attributes['url.full']), [], 'A is on another port');
    assert.deepEqual(rxClientB.spans().filter((s) => s.kind === 2).map((s) => s.name), [], 'server: false');
  });
});
