// End to end on the real kernel: real TCP over loopback and over a veth pair between two network
// namespaces created by the test → the tcp receiver → OTLP/gRPC. Bytes counted exactly.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { OtlpReceiver, latestPoints, latestSum } from '../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from './helpers/agent.ts';

const PEER = new URL('./tcp-peer.ts', import.meta.url).pathname;
const NS_A = `kotel-tcp-a-${process.pid}`, NS_B = `kotel-tcp-b-${process.pid}`;
const NET = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;

function config(endpoint: string): string {
  return `receivers:
  tcp: { max_peers_per_process: 4, logs: { failed_connects: true } }
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
service:
  pipelines:
    metrics: { receivers: [tcp], exporters: [otlp] }
    logs: { receivers: [tcp], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

function peer(args: string[], netns?: string): { child: ChildProcess; out: Promise<string>; ready: Promise<void> } {
  const cmd = netns ? 'ip' : process.execPath;
  const argv = netns ? ['netns', 'exec', netns, process.execPath, PEER, ...args] : [PEER, ...args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  const ready = new Promise<void>((resolve) => child.stdout!.on('data', (d) => { text += d; if (text.includes('listening')) resolve(); }));
  const out = new Promise<string>((resolve) => child.on('exit', () => resolve(text)));
  return { child, out, ready };
}

describe('e2e: tcp receiver — connects, accepts, refused, bytes exactly, loopback and veth between namespaces', function () {
  this.timeout(60_000);
  let rx: OtlpReceiver;
  let agent: AgentProcess;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });

  before(async () => {
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);
    ip('link', 'add', `kta${process.pid % 10000}`, 'type', 'veth', 'peer', 'name', `ktb${process.pid % 10000}`);
    ip('link', 'set', `kta${process.pid % 10000}`, 'netns', NS_A);
    ip('link', 'set', `ktb${process.pid % 10000}`, 'netns', NS_B);
    ip('-n', NS_A, 'addr', 'add', `${NET}.1/24`, 'dev', `kta${process.pid % 10000}`);
    ip('-n', NS_B, 'addr', 'add', `${NET}.2/24`, 'dev', `ktb${process.pid % 10000}`);
    for (const [ns, dev] of [[NS_A, `kta${process.pid % 10000}`], [NS_B, `ktb${process.pid % 10000}`]]) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    rx = await OtlpReceiver.start({ httpPort: null });
    agent = await startAgent(config(rx.grpcEndpoint));
  });

  after(async () => {
    const code = await agent?.stop();
    await rx?.stop();
    try { ip('netns', 'del', NS_A); } catch { /* */ }
    try { ip('netns', 'del', NS_B); } catch { /* */ }
    assert.equal(code, 0, `agent exit code; stderr:\n${agent?.stderr()}`);
  });

  it('prints a ready line naming the attached hook', () => {
    assert.match(agent.stderr(), /ready: receivers .*tcp\(tp_btf\/inet_sock_set_state\)/);
  });

  async function exchange(host: string, port: number, send: number, reply: number, connections: number, serverNs?: string, clientNs?: string) {
    const server = peer(['server', host, String(port), String(reply), String(connections)], serverNs);
    await server.ready;
    const client = peer(['client', host, String(port), String(send), String(connections)], clientNs);
    const out = await client.out;
    assert.equal(out.trim(), `received ${reply * connections}`);
    await server.out;
    return { clientPid: client.child.pid!, serverPid: server.child.pid! };
  }

  const io = (pid: number, dir: string, direction: string) => latestSum(rx.metrics(), 'process.network.io', { 'network.io.direction': dir, 'linux.tcp.direction': direction }, { resource: { 'process.pid': pid } }) ?? 0;

  it('loopback: client and server bytes, connections and connect latency counted exactly per process and peer', async () => {
    const port = 20000 + (process.pid % 20000);
    const { clientPid, serverPid } = await exchange('127.0.0.1', port, 100_000, 7_000, 3);
    await rx.waitFor(() => io(clientPid, 'transmit', 'outbound') === 300_000 && io(serverPid, 'receive', 'inbound') === 300_000,
      { timeoutMs: 15_000, what: 'loopback byte counts' });
    assert.equal(io(clientPid, 'receive', 'outbound'), 21_000);
    assert.equal(io(serverPid, 'transmit', 'inbound'), 21_000);
    const q = (pid: number) => ({ resource: { 'process.pid': pid } });
    assert.equal(latestSum(rx.metrics(), 'linux.tcp.connections', { 'linux.tcp.direction': 'outbound', 'network.peer.address': '127.0.0.1', 'server.port': port }, q(clientPid)), 3);
    assert.equal(latestSum(rx.metrics(), 'linux.tcp.connections', { 'linux.tcp.direction': 'inbound' }, q(serverPid)), 3);
    const [c] = [...latestPoints(rx.metrics(), 'linux.tcp.connect.duration', {}, q(clientPid)).values()];
    assert.equal(c.point.count, 3);
    assert.ok(c.point.max! > 0 && c.point.max! < 1);
    await rx.waitFor(() => [...latestPoints(rx.metrics(), 'linux.tcp.connection.duration', {}, q(serverPid)).values()].reduce((n, p) => n + (p.point.count ?? 0), 0) === 3,
      { timeoutMs: 10_000, what: 'server connection lifetimes' });
  });

  it('IPv6 loopback: bytes, connections and the ::1 peer counted exactly', async () => {
    const port = 24000 + (process.pid % 20000);
    const { clientPid, serverPid } = await exchange('::1', port, 40_000, 3_000, 2);
    await rx.waitFor(() => io(clientPid, 'transmit', 'outbound') === 80_000 && io(serverPid, 'receive', 'inbound') === 80_000,
      { timeoutMs: 15_000, what: 'IPv6 byte counts' });
    assert.equal(io(clientPid, 'receive', 'outbound'), 6_000);
    assert.equal(io(serverPid, 'transmit', 'inbound'), 6_000);
    assert.equal(latestSum(rx.metrics(), 'linux.tcp.connections', { 'network.peer.address': '::1', 'server.port': port }, { resource: { 'process.pid': clientPid } }), 2);
  });

  it('a reset: sent by the server, received by the client, counted on both sides', async () => {
    const port = 26000 + (process.pid % 20000);
    const server = peer(['rst-server', '127.0.0.1', String(port)]);
    await server.ready;
    const client = peer(['rst-client', '127.0.0.1', String(port)]);
    assert.equal((await client.out).trim(), 'ECONNRESET');
    await server.out;
    const resets = (pid: number, direction: string) => latestSum(rx.metrics(), 'linux.tcp.resets', { 'linux.tcp.reset.direction': direction }, { resource: { 'process.pid': pid } }) ?? 0;
    await rx.waitFor(() => resets(server.child.pid!, 'sent') === 1 && resets(client.child.pid!, 'received') === 1,
      { timeoutMs: 15_000, what: 'one reset sent by the server and one received by the client' });
  });

  it('refused connect on loopback: linux.tcp.connect.failures{error.type=refused} and a log record', async () => {
    const refused = peer(['refused', '127.0.0.1', '1']);
    assert.equal((await refused.out).trim(), 'ECONNREFUSED');
    const pid = refused.child.pid!;
    await rx.waitFor(() => latestSum(rx.metrics(), 'linux.tcp.connect.failures', { 'error.type': 'refused' }, { resource: { 'process.pid': pid } }) === 1,
      { timeoutMs: 10_000, what: 'refused connect' });
    await rx.waitFor(() => rx.logs().some((l) => l.resource['process.pid'] === pid && l.attributes['error.type'] === 'refused' && /connect to 127\.0\.0\.1:1 failed: refused/.test(String(l.body))),
      { timeoutMs: 10_000, what: 'failed-connect log record' });
  });

  it('veth between two namespaces: bytes counted exactly on both sides with the 10.x peer', async () => {
    const port = 30000 + (process.pid % 20000);
    const { clientPid, serverPid } = await exchange(`${NET}.1`, port, 250_000, 1_234, 2, NS_A, NS_B);
    // `ip netns exec` execs node in place: the pids are the peers' own.
    await rx.waitFor(() => io(clientPid, 'transmit', 'outbound') === 500_000 && io(serverPid, 'receive', 'inbound') === 500_000,
      { timeoutMs: 15_000, what: 'veth byte counts' });
    assert.equal(io(clientPid, 'receive', 'outbound'), 2_468);
    assert.equal(io(serverPid, 'transmit', 'inbound'), 2_468);
    assert.equal(latestSum(rx.metrics(), 'linux.tcp.connections', { 'network.peer.address': `${NET}.1`, 'server.port': port }, { resource: { 'process.pid': clientPid } }), 2);
    assert.equal(latestSum(rx.metrics(), 'linux.tcp.connections', { 'network.peer.address': `${NET}.2` }, { resource: { 'process.pid': serverPid } }), 2);
  });
});
