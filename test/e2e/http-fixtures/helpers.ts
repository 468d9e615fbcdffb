// Shared by the http receiver's e2e tests: the agent config, a node server process, raw sockets.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OtlpReceiver } from '../../support/otlp-receiver.ts';
import { startAgent, type AgentProcess } from '../helpers/agent.ts';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

export function httpConfig(endpoint: string, settings = '{}'): string {
  return `receivers:
  http: ${settings}
exporters:
  otlp:
    endpoint: ${endpoint}
    tls: { insecure: true }
    sending_queue: { queue_size: 500000 }
processors:
  batch: { timeout: 100ms, send_batch_size: 4096, send_batch_max_size: 8192 }
service:
  pipelines:
    traces: { receivers: [http], processors: [batch], exporters: [otlp] }
    metrics: { receivers: [http], exporters: [otlp] }
  telemetry:
    metrics: { interval: 1s }
`;
}

export interface NodeServer { port: number; pid: number; child: ChildProcess; count(): Promise<number>; stop(): Promise<void> }

export async function startNodeServer(upstream?: number, host = '127.0.0.1'): Promise<NodeServer> {
  const child = spawn(process.execPath, [SERVER, String(upstream ?? ''), host], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; const m = /listening (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return {
    port, pid: child.pid!, child,
    // Read the counter over a raw socket from this process: /count itself is not counted.
    count: async () => Number((await rawExchange(port, 'GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).split('\r\n\r\n')[1]),
    stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

/** A suite's OTLP receiver, agent (started with `config(endpoint)`) and node server, torn down after it. */
export interface HttpSuite { rx: OtlpReceiver; agent: AgentProcess; server: NodeServer }

export function useHttpSuite(config: (endpoint: string) => string): HttpSuite {
  const suite = {} as HttpSuite;
  before(async () => {
    suite.rx = await OtlpReceiver.start({ httpPort: null });
    suite.agent = await startAgent(config(suite.rx.grpcEndpoint));
    suite.server = await startNodeServer();
  });
  after(async () => {
    await suite.server?.stop();
    const code = await suite.agent?.stop();
    await suite.rx?.stop();
    assert.equal(code, 0, `agent exit code; stderr:\n${suite.agent?.stderr()}`);
  });
  return suite;
}

/** Writes `parts` (with pauses between them) on one connection and reads until the peer closes. */
export function rawExchange(port: number, ...parts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
    sock.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i) await new Promise((r) => setTimeout(r, 30));
        sock.write(p);
      }
    });
  });
}


export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Nginx { port: number; dir: string; child: ChildProcess; workerPid(): number; accessLog(): string[]; stop(): Promise<void> }

export async function startNginx(upstream?: number, sendfile = true): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'kotel-nginx-'));
  mkdirSync(join(dir, 'html'));
  writeFileSync(join(dir, 'html', '1k.txt'), 'k'.repeat(1024));
  writeFileSync(join(dir, 'html', '1m.bin'), Buffer.alloc(1 << 20, 7));
  for (const p of [dir, join(dir, 'html')]) chmodSync(p, 0o755);   // nginx workers run as www-data
  const port = await freePort();
  const conf = `worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  sendfile ${sendfile ? 'on' : 'off'};
  keepalive_requests 100000;
  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/html;
    ${upstream ? `location /api/ { proxy_pass http://127.0.0.1:${upstream}/; proxy_http_version 1.1; proxy_set_header Connection ""; }` : ''}
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try { execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/__ready`]); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  return {
    port, dir, child,
    workerPid: () => Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n')[0]),
    accessLog: () => readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((l) => l && !l.includes('/__ready')),
    stop: async () => { child.kill('SIGQUIT'); await new Promise((r) => child.once('exit', r)); },
  };
}

