// Room for the agent's old generation to grow between full collections.
//
// V8 sizes the next full-GC trigger from how fast its last collections were: for a small live heap
// that collects quickly it allows only ~10 % more (2–4 MB here), and an agent that exports tens of
// thousands of spans a second then runs a full collection several times a second, on the cores the
// traced services need (about half the agent's CPU at 46k spans/s, BENCHMARKS.md). kotel asks for a
// fixed absolute headroom instead: the growing factor that gives `headroomMb` above the live heap,
// re-read as the live heap changes, and V8's own policy once the heap is large enough that its
// default factor gives that much anyway.
import v8 from 'node:v8';
import { ConfigError } from '../config/index.ts';

export const HEADROOM_ENV = 'KOTEL_HEAP_HEADROOM_MB';
export const DEFAULT_HEADROOM_MB = 48;
const MAX_PERCENT = 400;
/** Below this the fixed factor adds little to V8's own (1.1 and up): leave it to V8. */
const MIN_PERCENT = 50;

/** The heap growing percent that leaves `headroomMb` above `liveBytes`; 0 = V8's own policy. */
export function growingPercent(liveBytes: number, headroomMb: number): number {
  if (headroomMb <= 0 || liveBytes <= 0) return 0;
  // in steps of 25: the live heap moves a little between reads and the factor need not follow
  const percent = Math.ceil((headroomMb * 1024 * 1024 * 100) / liveBytes / 25) * 25;
  if (percent < MIN_PERCENT) return 0;
  return Math.min(percent, MAX_PERCENT);
}

/** The headroom from the environment: a whole number of MiB, 0 for V8's own policy. */
export function headroomFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[HEADROOM_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_HEADROOM_MB;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError('the environment', [{ path: '', envVar: HEADROOM_ENV, message: `must be a whole number of MiB (0: V8's own policy), got ${JSON.stringify(raw)}` }]);
  }
  return Number(raw.trim());
}

/** Applies the headroom now and every `everyMs` (the live heap grows with processes and series). */
export function keepHeapHeadroom(headroomMb: number, everyMs = 5000): () => void {
  let applied = -1;
  const apply = () => {
    const percent = growingPercent(v8.getHeapStatistics().used_heap_size, headroomMb);
    if (percent === applied) return;
    // --heap-growing-percent is read each time V8 recomputes its limits, so it takes effect at runtime
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
    applied = percent;
  };
  apply();
  if (headroomMb <= 0) return () => undefined;
  const timer = setInterval(apply, everyMs).unref();
  return () => clearInterval(timer);
}
