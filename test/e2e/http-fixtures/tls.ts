// TLS fixtures for the http receiver's e2e tests: a self-signed certificate (openssl req), nginx
// serving HTTPS, and node HTTPS servers and clients.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type Nginx, type NodeServer } from './helpers.ts';

const HTTPS_SERVER = fileURLToPath(new URL('./https-server.mjs', import.meta.url));
export const HTTPS_CLIENT = fileURLToPath(new URL('./https-client.mjs', import.meta.url));
const HTTPS_PY = fileURLToPath(new URL('./https_py.py', import.meta.url));
/** Debian's python: its ssl module links the system libssl.so.3 and uses SSL_read_ex/SSL_write_ex. */
export const PYTHON = '/usr/bin/python3';

export interface Cert { cert: string; key: string }

/** A self-signed certificate for 127.0.0.1, made with `openssl req` in a fresh directory. */
export function selfSignedCert(dir = mkdtempSync(join(tmpdir(), 'kotel-cert-'))): Cert {
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  chmodSync(dir, 0o755);
  chmodSync(key, 0o644);   // nginx workers run as www-data
  return { cert, key };
}

/** nginx serving HTTPS (Debian nginx-light links libssl.so.3), keep-alive, one worker. */
export async function startNginxTls(): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'kotel-nginx-tls-'));
  mkdirSync(join(dir, 'html'));
  writeFileSync(join(dir, 'html', '1k.txt'), 'k'.repeat(1024));
  for (const p of [dir, join(dir, 'html')]) chmodSync(p, 0o755);
  const { cert, key } = selfSignedCert(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    root ${dir}/html;
  }
}
`);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try { execFileSync('curl', ['-sk', '-o', '/dev/null', `https://127.0.0.1:${port}/__ready`]); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  return {
    port, dir, child,
    workerPid: () => Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n')[0]),
    accessLog: () => readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((l) => l && !l.includes('/__ready')),
    stop: async () => { child.kill('SIGQUIT'); await new Promise((r) => child.once('exit', r)); },
  };
}

/** A node HTTPS server run by `node` (default: this test's node 24). */
export async function startNodeHttpsServer(cert: Cert, node = process.execPath): Promise<NodeServer> {
  const child = spawn(node, [HTTPS_SERVER, cert.cert, cert.key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; const m = /listening (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    child.on('exit', (c) => reject(new Error(`https server exited ${c}`)));
  });
  return {
    port, pid: child.pid!, child,
    // Read with curl: its spans are client spans of another process, never the server's count.
    count: async () => Number(execFileSync('curl', ['-sk', `https://127.0.0.1:${port}/count`], { encoding: 'utf8' })),
    stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

/** Runs the node HTTPS client (one keep-alive connection); returns its pid and output lines. */
export async function runNodeHttpsClient(node: string, port: number, paths: string[]): Promise<{ pid: number; lines: string[] }> {
  const child = spawn(node, [HTTPS_CLIENT, String(port), ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`https client exited ${code}: ${out}`);
  return { pid: child.pid!, lines: out.trim().split('\n') };
}

/** A python HTTPS server (SSL_read_ex/SSL_write_ex through libssl.so.3). */
export async function startPythonHttpsServer(cert: Cert): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const child = spawn(PYTHON, [HTTPS_PY, 'server', cert.cert, cert.key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; const m = /listening (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    child.on('exit', (c) => reject(new Error(`python server exited ${c}`)));
  });
  return { port, pid: child.pid!, stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); } };
}

/** Runs the python HTTPS client (one keep-alive connection); returns its pid and output lines. */
export async function runPythonHttpsClient(port: number, paths: string[]): Promise<{ pid: number; lines: string[] }> {
  const child = spawn(PYTHON, [HTTPS_PY, 'client', String(port), ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`python client exited ${code}: ${out}`);
  return { pid: child.pid!, lines: out.trim().split('\n') };
}
