// A bounded queue in front of one exporter: batches by size or age, one export in flight,
// retries of transient failures with capped exponential backoff (the OTLP gRPC exporter does
// not retry by itself), requests kept under the size a receiver accepts, and every item it
// cannot deliver counted (queue full, export failed).
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';

export interface BatchExporter<T> {
  export(items: T[], done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

export interface ExportQueueOptions {
  maxQueueSize: number;
  batchSize: number;
  maxBatchSize: number;
  delayMs: number;
  exportTimeoutMs: number;
  /** Items one request can hold, from the exporter's encoding (the bytes per item of its last request: request-size.ts). */
  fitItems?: () => number;
  retry?: { enabled: boolean; maxElapsedMs: number; initialBackoffMs?: number; maxBackoffMs?: number };
}

// OTLP's retryable outcomes: gRPC CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
// OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS; HTTP 429, 502, 503, 504; and no answer at all.
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 11, 14, 15]);
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

/**
 * The receiver refused the request for its size: gRPC RESOURCE_EXHAUSTED with the size message of
 * grpc-go and grpc-js ("Received message larger than max (5000000 vs. 4194304)"), or HTTP 413.
 * Sending it again cannot succeed; its halves can.
 */
export function isTooLarge(error: (Error & { code?: unknown }) | undefined): boolean {
  if (!error) return false;
  return error.code === 413 || (error.code === 8 && /larger than max/i.test(error.message));
}

export function isRetryable(error: (Error & { code?: unknown }) | undefined): boolean {
  if (!error || isTooLarge(error)) return false;
  const code = error.code;
  if (typeof code === 'number') return RETRYABLE_GRPC.has(code) || RETRYABLE_HTTP.has(code);
  return typeof code === 'string' ? /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|PIPE|TIMEDOUT|AI_AGAIN)$/.test(code) || code === 'ETIMEDOUT' : /timed out/.test(error.message);
}

export interface ExportQueueStats {
  queued: number;
  exported: number;
  droppedQueueFull: number;
  droppedExportFailed: number;
  exportFailures: number;
  retries: number;
  /** Requests the receiver refused for their size, sent again as two halves. */
  splits: number;
}

export class ExportQueue<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  readonly stats: ExportQueueStats = { queued: 0, exported: 0, droppedQueueFull: 0, droppedExportFailed: 0, exportFailures: 0, retries: 0, splits: 0 };
  private flushDeadline = Infinity;
  lastError: Error | undefined;
  /** Queued items that start an export at once: a full batch, or a full request when fewer fit. */
  private trigger: number;

  private readonly exporter: BatchExporter<T>;
  private readonly opts: ExportQueueOptions;

  constructor(exporter: BatchExporter<T>, opts: ExportQueueOptions) {
    this.exporter = exporter;
    this.opts = opts;
    this.trigger = Math.min(opts.batchSize, Math.max(1, opts.fitItems?.() ?? Infinity));
  }

  /** False when the queue is full (or closed): the item is counted as dropped. */
  push(item: T): boolean {
    if (this.closed || this.items.length >= this.opts.maxQueueSize) {
      this.stats.droppedQueueFull++;
      return false;
    }
    this.items.push(item);
    this.stats.queued = this.items.length;
    if (this.items.length >= this.trigger) this.kick();
    else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.opts.delayMs).unref();
    return true;
  }

  /** Exports everything queued; resolves when done or when the timeout gave up on it. */
  async flush(timeoutMs = this.opts.exportTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.flushDeadline = deadline;
    while ((this.items.length || this.inFlight) && Date.now() < deadline) {
      this.kick();
      await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())).unref())]);
    }
    // An export still in flight settles within its own timeout; wait so its items are counted.
    if (this.inFlight) await this.inFlight;
    this.flushDeadline = Infinity;
    if (this.items.length) {
      this.stats.droppedExportFailed += this.items.length;
      this.items = [];
      this.stats.queued = 0;
    }
  }

  async shutdown(timeoutMs?: number): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    await this.exporter.shutdown().catch(() => undefined);
  }

  private kick(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.inFlight || this.items.length === 0) return;
    const fit = Math.max(1, this.opts.fitItems?.() ?? Infinity);
    this.trigger = Math.min(this.opts.batchSize, fit);
    const batch = this.items.splice(0, Math.min(this.opts.maxBatchSize, fit));
    this.stats.queued = this.items.length;
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = undefined;
      if (this.items.length >= this.trigger) this.kick();
      else if (this.items.length && !this.timer) this.timer = setTimeout(() => this.kick(), this.opts.delayMs).unref();
    });
  }

  private async send(batch: T[]): Promise<void> {
    const retry = this.opts.retry;
    const giveUpAt = Date.now() + (retry?.enabled ? retry.maxElapsedMs : 0);
    let backoff = retry?.initialBackoffMs ?? 500;
    for (;;) {
      const result = await this.attempt(batch);
      if (result.code === ExportResultCode.SUCCESS) {
        this.stats.exported += batch.length;
        return;
      }
      this.lastError = result.error;
      if (batch.length > 1 && isTooLarge(result.error as never)) {
        // Smaller than a receiver's limit is unknown; halves converge on it, each sent (and counted) on its own.
        this.stats.splits++;
        const half = batch.length >> 1;
        await this.send(batch.slice(0, half));
        await this.send(batch.slice(half));
        return;
      }
      const wait = Math.min(backoff * (0.5 + Math.random()), retry?.maxBackoffMs ?? 5000);
      const deadline = Math.min(giveUpAt, this.flushDeadline);
      if (!retry?.enabled || !isRetryable(result.error as never) || Date.now() + wait > deadline) {
        this.stats.exportFailures++;
        this.stats.droppedExportFailed += batch.length;
        return;
      }
      this.stats.retries++;
      await new Promise((r) => setTimeout(r, wait).unref());
      backoff *= 2;
    }
  }

  private attempt(batch: T[]): Promise<ExportResult> {
    return new Promise<ExportResult>((resolve) => {
      let settled = false;
      const finish = (result: ExportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        resolve(result);
      };
      const timeout = setTimeout(() => finish({ code: ExportResultCode.FAILED, error: new Error(`export timed out after ${this.opts.exportTimeoutMs} ms`) }), this.opts.exportTimeoutMs).unref();
      try {
        this.exporter.export(batch, finish);
      } catch (err) {
        finish({ code: ExportResultCode.FAILED, error: err as Error });
      }
    });
  }
}
