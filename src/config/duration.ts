// Durations in the Collector's Go style ("500ms", "10s", "1m30s") or a plain number of milliseconds.
// Everything downstream works in milliseconds, so we convert once here.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export const DURATION_HINT = 'a duration like 500ms, 10s, 1m (units ns, us, ms, s, m, h) or a number of milliseconds';

/** Milliseconds for a duration value, or undefined when the value is not a valid non-negative duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  // A bare number in a string (typically from ${VAR} substitution) is milliseconds too.
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  // Round to nanoseconds so "1.1s" is 1100, not 1100.0000000000002.
  return Math.round(total * 1e6) / 1e6;
}
