// A real OpenTelemetry Collector for kotel's end-to-end tests.
//
//   const col = await Otelcol.start({});   // builds once (scripts/build-otelcol.sh, cached), starts
//   exporter url: col.grpcEndpoint ('http://127.0.0.1:PORT') or col.httpUrls.metrics
//   await col.waitFor(() => col.logs().length >= 2, { what: 'two log records' });
//   col.read()  → { logs, metrics, spans }, the same shapes as OtlpReceiver's (otlp-normalize.ts)
//   await col.stop();
//
// The collector receives OTLP on free 127.0.0.1 ports (gRPC, and HTTP unless disabled) and its
// file exporter writes each export as one OTLP/JSON line to a temp file, which read() parses
// incrementally. The binary comes from opts.binary, else $KOTEL_OTELCOL, else the build script
// (${KOTEL_CACHE:-~/.cache/kotel}/otelcol-<version>/otelcol; a cold build takes minutes).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeOtlpJson } from './otlp-normalize.ts';
import type { LogRecord, Metric, Span, Telemetry } from './otlp-normalize.ts';
import { pollUntil } from './otlp-receiver.ts';
import type { WaitOptions } from './otlp-receiver.ts';
import type { Signal } from './otlp-proto.ts';

export type { Telemetry } from './otlp-normalize.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD_SCRIPT = path.join(REPO, 'scripts/build-otelcol.sh');

export interface OtelcolOptions {
  /** OTLP/gRPC receiver port; 0 (default) = a free port */
  grpcPort?: number;
  /** OTLP/HTTP receiver port; 0 (default) = a free port; null = no HTTP receiver */
  httpPort?: number | null;
  /** an otelcol binary to use instead of $KOTEL_OTELCOL or the build script's */
  binary?: string;
  /** put the batch processor in every pipeline (merges requests; default off) */
  batch?: boolean | { timeout?: string; sendBatchSize?: number };
  /** add the debug exporter at this verbosity; its output is in col.output() */
  debug?: boolean | 'basic' | 'normal' | 'detailed';
  /** how long to wait for the receiver's port, default 30000 ms */
  startTimeoutMs?: number;
  /** keep the temp dir (config, output file) after stop(); also KOTEL_KEEP_OTELCOL=1 */
  keep?: boolean;
}

const OUTPUT_LIMIT = 256 * 1024;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

let building: Promise<string> | undefined;

/**
 * The collector binary: $KOTEL_OTELCOL if set, else built (or found in the cache) by
 * scripts/build-otelcol.sh, whose progress goes to this process's stderr. Rejects with the
 * script's message when the build fails (e.g. Go not installed). Memoised per process.
 */
export function otelcolBinary(): Promise<string> {
  const fromEnv = process.env.KOTEL_OTELCOL;
  if (fromEnv) {
    return fs.existsSync(fromEnv)
      ? Promise.resolve(fromEnv)
      : Promise.reject(new Error(`Otelcol: KOTEL_OTELCOL=${fromEnv} does not exist`));
  }
  building ??= runBuildScript();
  return building;
}

function runBuildScript(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-OUTPUT_LIMIT);
      process.stderr.write(c);
    });
    child.on('error', (err) => reject(new Error(`Otelcol: cannot run ${BUILD_SCRIPT}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const bin = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && bin && fs.existsSync(bin)) return resolve(bin);
      const reason = stderr.split('\n').filter((l) => l.includes('error:')).join('\n') || stderr.slice(-4000);
      reject(
        new Error(
          `Otelcol: building the OpenTelemetry Collector failed (${BUILD_SCRIPT} exited ${code ?? signal}):\n${reason.trim()}`,
        ),
      );
    });
  });
}

/** A free TCP port on 127.0.0.1 (closed again before returning; the caller binds it soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1000, () => done(false));
  });
}

export class Otelcol {
  grpcEndpoint = '';
  httpEndpoint = '';
  httpUrls: Record<Signal, string> = { logs: '', metrics: '', traces: '' };
  grpcPort = 0;
  httpPort = 0;
  binary = '';
  /** temp dir holding config.yaml and otlp.jsonl */
  dir = '';
  configPath = '';
  /** the file exporter's output: one OTLP/JSON document per line, one line per export */
  outputPath = '';

  #child: ChildProcess | undefined;
  #exit: Promise<void> | undefined;
  #exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #output = '';
  #offset = 0;
  #partial = '';
  #data: Telemetry = { logs: [], metrics: [], spans: [] };
  #keep = false;
  #stopped = false;

  private constructor() {}

  static async start(opts: OtelcolOptions = {}): Promise<Otelcol> {
    const binary = opts.binary ?? (await otelcolBinary());
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const col = new Otelcol();
      try {
        await col.#start(binary, opts);
        return col;
      } catch (err) {
        lastError = err;
        await col.stop();
        // a port picked as free may have been taken meanwhile: try again with fresh ones
        if (!/address already in use/i.test(String(err)) || opts.grpcPort || opts.httpPort) break;
      }
    }
    throw lastError;
  }

  async #start(binary: string, opts: OtelcolOptions): Promise<void> {
    this.binary = binary;
    this.#keep = opts.keep ?? process.env.KOTEL_KEEP_OTELCOL === '1';
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kotel-otelcol-'));
    this.configPath = path.join(this.dir, 'config.yaml');
    this.outputPath = path.join(this.dir, 'otlp.jsonl');
    this.grpcPort = opts.grpcPort || (await freePort());
    this.httpPort = opts.httpPort === null ? 0 : opts.httpPort || (await freePort());
    this.grpcEndpoint = `http://127.0.0.1:${this.grpcPort}`;
    if (this.httpPort) {
      this.httpEndpoint = `http://127.0.0.1:${this.httpPort}`;
      for (const s of ['logs', 'metrics', 'traces'] as const) this.httpUrls[s] = `${this.httpEndpoint}/v1/${s}`;
    }
    fs.writeFileSync(this.configPath, this.#config(opts));

    const child = spawn(binary, ['--config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    const keep = (c: Buffer): void => {
      this.#output = (this.#output + c.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exit = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exited = { code, signal };
        live.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        this.#output += `\nspawn error: ${err.message}`;
        this.#exited = { code: null, signal: null };
        live.delete(child);
        resolve();
      });
    });

    const timeoutMs = opts.startTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (const port of [this.grpcPort, this.httpPort].filter((p) => p > 0)) {
      for (;;) {
        if (this.#exited) {
          throw new Error(`Otelcol: the collector exited (${this.#exitText()}) before listening:\n${this.output(4000)}`);
        }
        if (await canConnect(port)) break;
        if (Date.now() > deadline) {
          throw new Error(`Otelcol: the collector did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${this.output(4000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  #config(opts: OtelcolOptions): string {
    const protocols: Record<string, unknown> = { grpc: { endpoint: `127.0.0.1:${this.grpcPort}` } };
    if (this.httpPort) protocols.http = { endpoint: `127.0.0.1:${this.httpPort}` };
    const exporters: Record<string, unknown> = {
      file: {
        path: this.outputPath,
        format: 'json',
        flush_interval: '100ms',
        // rotation on (the default) writes through unbuffered; 1 GiB so it never rotates in a test
        rotation: { max_megabytes: 1024 },
      },
    };
    if (opts.debug) exporters.debug = { verbosity: opts.debug === true ? 'detailed' : opts.debug };
    const processors: Record<string, unknown> = {};
    if (opts.batch) {
      const b = opts.batch === true ? {} : opts.batch;
      processors.batch = {
        timeout: b.timeout ?? '50ms',
        ...(b.sendBatchSize === undefined ? {} : { send_batch_size: b.sendBatchSize }),
      };
    }
    const pipeline = {
      receivers: ['otlp'],
      processors: Object.keys(processors),
      exporters: Object.keys(exporters),
    };
    // JSON is YAML: no quoting pitfalls with paths.
    return `${JSON.stringify(
      {
        receivers: { otlp: { protocols } },
        processors,
        exporters,
        service: {
          telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
          pipelines: { logs: pipeline, metrics: pipeline, traces: pipeline },
        },
      },
      null,
      2,
    )}\n`;
  }

  /** Everything the file exporter wrote since start (or clear()), normalised. */
  read(): Telemetry {
    this.#readNew();
    return { logs: this.#data.logs.slice(), metrics: this.#data.metrics.slice(), spans: this.#data.spans.slice() };
  }
  logs(): LogRecord[] {
    this.#readNew();
    return this.#data.logs.slice();
  }
  metrics(): Metric[] {
    this.#readNew();
    return this.#data.metrics.slice();
  }
  spans(): Span[] {
    this.#readNew();
    return this.#data.spans.slice();
  }

  /** Forget what was read so far; later reads return only newer exports. */
  clear(): void {
    this.#readNew();
    this.#data = { logs: [], metrics: [], spans: [] };
  }

  waitFor(predicate: () => boolean, opts: WaitOptions = {}): Promise<void> {
    return pollUntil(predicate, opts, () => this.describe(), 'Otelcol');
  }

  describe(): string {
    const d = this.read();
    const names = [...new Set(d.metrics.map((m) => m.name))].slice(0, 40).join(', ');
    return [
      `read from ${this.outputPath}: ${d.logs.length} log records, ${d.spans.length} spans, ${d.metrics.length} metric entries [${names}]`,
      `collector ${this.#exited ? `exited (${this.#exitText()})` : 'running'}; its last output:`,
      this.output(2000),
    ].join('\n');
  }

  /** The collector's own stdout+stderr (the last `max` characters). */
  output(max = OUTPUT_LIMIT): string {
    return this.#output.slice(-max);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const child = this.#child;
    if (child && !this.#exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.#exit;
      clearTimeout(timer);
    }
    if (this.#data && this.dir && fs.existsSync(this.outputPath)) this.#readNew();
    if (this.dir && !this.#keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  #exitText(): string {
    const e = this.#exited;
    return e ? (e.signal ? `signal ${e.signal}` : `code ${e.code}`) : 'running';
  }

  #readNew(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.outputPath, 'r');
    } catch {
      return; // not created yet (or removed after stop)
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.#offset) {
        // truncated or rotated: start over
        this.#offset = 0;
        this.#partial = '';
      }
      if (size === this.#offset) return;
      const buf = Buffer.alloc(size - this.#offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.#offset);
      this.#offset += n;
      const text = this.#partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? ''; // an incomplete last line waits for the next read
      for (const line of lines) {
        if (!line.trim()) continue;
        const t = normalizeOtlpJson(JSON.parse(line));
        this.#data.logs.push(...t.logs);
        this.#data.metrics.push(...t.metrics);
        this.#data.spans.push(...t.spans);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
