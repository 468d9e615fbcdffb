// Room for the agent's old generation to grow between full collections.
//
// V8 sizes the next full-GC trigger from how fast its last collections were: for a small live heap
// that collects quickly it allows only ~10 % more (2–4 MB here), and an agent that exports tens of
// thousands of spans a second then runs a full collection several times a second, on the cores the
// traced services need (about half the agent's CPU at 46k spans/s, BENCHMARKS.md). kotel asks for a
// fixed absolute headroom instead: the growing factor that lets `headroomMb` be promoted before
// marking starts, re-read as the heap changes, and V8's own policy once the heap is large enough
// that its default factor gives that much anyway.
import v8 from 'node:v8';
import { ConfigError } from '../config/index.ts';

export const HEADROOM_ENV = 'KOTEL_HEAP_HEADROOM_MB';
export const DEFAULT_HEADROOM_MB = 48;
/** A bound for a tiny heap; the absolute headroom is what bounds the memory. */
const MAX_PERCENT = 1000;
/** Below this the fixed factor adds little to V8's own (1.1 and up): leave it to V8. */
const MIN_PERCENT = 50;
const MB = 1024 * 1024;

/**
 * The heap growing percent that leaves `headroomMb` of promotion before V8 starts marking, above the
 * old generation's `oldBytes`; 0 = V8's own policy. V8 starts incremental marking once the room left
 * under the limit is no larger than the young generation (`youngBytes`), so that room is added.
 */
export function growingPercent(oldBytes: number, youngBytes: number, headroomMb: number): number {
  if (headroomMb <= 0 || oldBytes <= 0) return 0;
  const exact = ((headroomMb * MB + youngBytes) * 100) / oldBytes;
  if (exact < MIN_PERCENT) return 0;
  // in steps of 25: the heap moves a little between reads and the factor need not follow
  return Math.min(Math.ceil(exact / 25) * 25, MAX_PERCENT);
}

const OLD_SPACES = new Set(['old_space', 'code_space', 'large_object_space', 'code_large_object_space']);

/** The old generation's used bytes and the young generation's capacity, now. */
function heapNow(): { oldBytes: number; youngBytes: number } {
  let oldBytes = 0, youngBytes = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (OLD_SPACES.has(s.space_name)) oldBytes += s.space_used_size;
    else if (s.space_name === 'new_space') youngBytes = s.space_size;
  }
  return { oldBytes, youngBytes };
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
export function keepHeapHeadroom(headroomMb: number, everyMs = 5000): void {
  let applied = -1;
  const apply = () => {
    const { oldBytes, youngBytes } = heapNow();
    const percent = growingPercent(oldBytes, youngBytes, headroomMb);
    if (percent === applied) return;
    // --heap-growing-percent is read each time V8 recomputes its limits, so it takes effect at runtime
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
    applied = percent;
  };
  if (headroomMb <= 0) return;   // V8's own policy: nothing to set
  apply();
  setInterval(apply, everyMs).unref();
}
