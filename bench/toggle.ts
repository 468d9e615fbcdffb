// Overhead measured by switching a receiver's programs on and off in short windows during ONE run of
// the workload, instead of comparing separate runs. On this VM two runs of the same workload differ by
// ±10-20 % (the host's other tenants), far more than the 2-10 % being measured; within one run, the
// windows either side of an "on" window see the same conditions, so their ratio cancels the drift.
// The workload is counted by a monotonic counter read at every switch (a device's completed reads,
// a server's logged requests): window rates are exact for the state the window ran in.
import type { BpfObject } from '../native/index.ts';
import type { LoadedProgram } from '../src/bpf/loader.ts';
import { median } from './lib.ts';

export interface ToggleTarget { object: BpfObject; programs: readonly string[] }

/** The loaded programs of a started receiver (the receivers keep them private; a bench reaches in). */
export function toggleTargetOf(receiver: unknown): ToggleTarget {
  const loaded = (receiver as { loaded?: LoadedProgram }).loaded;
  if (!loaded) throw new Error('toggle: the receiver has no loaded programs (not started?)');
  return { object: loaded.object, programs: loaded.variant.programs };
}

export interface ToggleOptions {
  targets: ToggleTarget[];
  /** Windows per run: odd, starting and ending with programs off, so every "on" window has two neighbours. */
  windows: number;
  windowMs: number;
  /** Monotonic count of the workload's operations. */
  count: () => number;
  /** Called at the end of each "on" window (the receiver's periodic user-space work, e.g. a collection). */
  onWindowEnd?: () => void;
}

export interface ToggleResult {
  off: number[];      /* operations per second in each "off" window */
  on: number[];
  /** Each "on" window against the mean of the "off" windows either side. */
  ratios: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setAttached(targets: ToggleTarget[], on: boolean): void {
  for (const t of targets) for (const p of t.programs) {
    if (on) t.object.attach(p);
    else t.object.detach(p);
  }
}

export async function alternate(opts: ToggleOptions): Promise<ToggleResult> {
  if (opts.windows < 3 || opts.windows % 2 === 0) throw new Error('toggle: windows must be odd and at least 3');
  setAttached(opts.targets, false);
  const rates: number[] = [];
  let n0 = opts.count(), t0 = process.hrtime.bigint();
  for (let w = 0; w < opts.windows; w++) {
    const on = w % 2 === 1;
    if (on) setAttached(opts.targets, true);
    await sleep(opts.windowMs);
    if (on && opts.onWindowEnd) opts.onWindowEnd();
    const n1 = opts.count(), t1 = process.hrtime.bigint();
    if (on) setAttached(opts.targets, false);
    rates.push((n1 - n0) / (Number(t1 - t0) / 1e9));
    n0 = n1; t0 = t1;
  }
  const off = rates.filter((_, w) => w % 2 === 0), on = rates.filter((_, w) => w % 2 === 1);
  return { off, on, ratios: on.map((r, i) => r / ((off[i] + off[i + 1]) / 2)) };
}

/** Median ratio and its interquartile range, as printed. */
export function summary(ratios: number[]): { median: number; q1: number; q3: number } {
  const s = [...ratios].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(f * (s.length - 1))))];
  return { median: median(s), q1: q(0.25), q3: q(0.75) };
}
