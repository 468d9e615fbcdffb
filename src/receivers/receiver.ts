// The contract every receiver implements (factory + settings schema + lifecycle), as in the
// OpenTelemetry Collector: the agent builds receivers from config and never looks inside.
import type { HrTime } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { MonotonicClock } from '../pipeline/clock.ts';
import type { ProcessCache } from '../pipeline/processes.ts';
import type { SelfTelemetry } from '../pipeline/self-telemetry.ts';
import type { Diagnostics } from '../pipeline/diagnostics.ts';
import type { SpanSampler } from '../pipeline/sampler.ts';

export type Signal = 'logs' | 'metrics' | 'traces';

export interface ReceiverContext<S> {
  id: string;
  settings: S;
  /** Present when a logs pipeline takes this receiver. False: no export queue took the record. */
  emitLog?: (record: ReadableLogRecord) => boolean;
  /** Present when a traces pipeline takes this receiver. */
  emitSpan?: (span: ReadableSpan) => void;
  /** Head sampling of the spans it builds (decide before building one; metrics still count everything). */
  sampler?: SpanSampler;
  processes: ProcessCache;
  clock: MonotonicClock;
  selfTelemetry: SelfTelemetry;
  diag: Diagnostics;
  metricsIntervalMs: number;
  /** service.telemetry.metrics.bpf_run_time: turn on the kernel's BPF run-time statistics. */
  bpfRunTimeStats?: boolean;
}

export interface Receiver {
  readonly id: string;
  /** What attached, for the `ready` line (e.g. "tp_btf/sys_exit"). */
  readonly attachedTo: string;
  start(): Promise<void>;
  /** Idempotent, and safe without start(). */
  shutdown(): Promise<void>;
  collectMetrics?(now: HrTime): ResourceMetrics[];
}

export interface CheckItem {
  what: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** An addition the receiver runs without (e.g. HTTPS uprobes): shown, never fails the check. */
  optional?: boolean;
}

export interface ReceiverFactory<S = Record<string, unknown>> {
  readonly type: string;
  readonly description: string;
  readonly signals: Signal[];
  /** JSON Schema of the settings (with defaults), validated by the config loader. */
  readonly schema: object;
  check(settings: S): CheckItem[];
  create(ctx: ReceiverContext<S>): Receiver;
}
