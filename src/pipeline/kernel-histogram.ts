// The bucket layout of kotel's in-kernel histograms (bpf/include/kotel_hist.h), mirrored in
// TypeScript: the thresholds exported as OTLP bucket bounds are computed by the same integer
// formula the kernel buckets with, and a test runs both on the same values.
//
//   bound[i] = (2^s + (I & (2^s - 1))) << (I >> s),  I = i + (minExp - s) * 2^s
//   bucket i = { v : bound[i-1] < v <= bound[i] }   (OTLP's upper-inclusive buckets)

export const KERNEL_HIST_SLOTS = 160; // KOTEL_HIST_SLOTS: finite bounds + overflow

export interface HistogramLayout {
  /** log2 of the sub-buckets per power of two (s) */
  subBits: number;
  /** the first bound is 2^minExp (nanoseconds) */
  minExp: number;
  /** finite bounds; bucket nbounds counts values above the last one */
  nbounds: number;
}

export interface HistogramSettings {
  /** buckets per power of two: 1, 2, 4, 8 or 16 */
  sub_buckets: number;
  /** lowest bound, in nanoseconds (rounded down to a power of two) */
  min_ns: number;
  /** the last bound is the first threshold >= max_ns */
  max_ns: number;
}

export const DEFAULT_HISTOGRAM: HistogramSettings = { sub_buckets: 4, min_ns: 1024, max_ns: 100e9 };

export const histogramSchema = {
  description: 'In-kernel latency buckets: log2 with sub-buckets; bounds are exported exactly.',
  type: 'object', additionalProperties: false, default: {},
  properties: {
    sub_buckets: { enum: [1, 2, 4, 8, 16], default: DEFAULT_HISTOGRAM.sub_buckets },
    min_ns: { type: 'integer', minimum: 16, maximum: 2 ** 40, default: DEFAULT_HISTOGRAM.min_ns },
    max_ns: { type: 'integer', minimum: 32, maximum: 2 ** 50, default: DEFAULT_HISTOGRAM.max_ns },
  },
} as const;

export function boundOf(index: number, layout: HistogramLayout): number {
  const s = layout.subBits;
  const I = index + (layout.minExp - s) * 2 ** s;
  return (2 ** s + (I & (2 ** s - 1))) * 2 ** Math.floor(I / 2 ** s);
}

/** The finite bounds, in nanoseconds (integers, exact below 2^53). */
export function boundsNs(layout: HistogramLayout): number[] {
  return Array.from({ length: layout.nbounds }, (_, i) => boundOf(i, layout));
}

function log2Floor(x: bigint): number {
  return x.toString(2).length - 1;
}

/** kotel_hist_bucket() of bpf/include/kotel_hist.h, on the same integers. */
export function bucketOf(value: bigint | number, layout: HistogramLayout): number {
  const v = BigInt(value);
  const s = layout.subBits;
  if (v <= 1n) return 0;
  const x = v - 1n;
  const e = log2Floor(x);
  if (e < s) return 0;
  const m = x >> BigInt(e - s);
  let idx = (e - s) * 2 ** s + Number(m + 1n) - 2 ** s;
  idx -= (layout.minExp - s) * 2 ** s;
  if (idx < 0) return 0;
  return Math.min(idx, layout.nbounds);
}

/** The kernel layout for the receiver settings; throws a plain-words error when it does not fit. */
export function layoutFromSettings(h: Partial<HistogramSettings> = {}): HistogramLayout {
  const subBuckets = h.sub_buckets ?? DEFAULT_HISTOGRAM.sub_buckets;
  const minNs = h.min_ns ?? DEFAULT_HISTOGRAM.min_ns;
  const maxNs = h.max_ns ?? DEFAULT_HISTOGRAM.max_ns;
  const subBits = Math.log2(subBuckets);
  if (!Number.isInteger(subBits) || subBits < 0 || subBits > 4) throw new Error(`histogram.sub_buckets must be 1, 2, 4, 8 or 16 (got ${subBuckets})`);
  const minExp = Math.max(subBits, Math.floor(Math.log2(minNs)));
  if (maxNs <= 2 ** minExp) throw new Error(`histogram.max_ns (${maxNs}) must be above min_ns (${minNs})`);
  let nbounds = 1;
  while (boundOf(nbounds - 1, { subBits, minExp, nbounds }) < maxNs) nbounds++;
  if (nbounds >= KERNEL_HIST_SLOTS) {
    throw new Error(`histogram: ${nbounds} buckets from ${minNs} ns to ${maxNs} ns at ${subBuckets} per power of two exceed the kernel's ${KERNEL_HIST_SLOTS - 1}; lower sub_buckets or narrow min_ns..max_ns`);
  }
  return { subBits, minExp, nbounds };
}

/**
 * The q-quantile (0 < q <= 1) of an explicit-bucket histogram, as the upper bound of the bucket
 * holding it (the conservative estimate: the true value is <= the result), clamped to `max`
 * when known. Bounds and result share a unit.
 */
export function quantileUpperBound(bounds: readonly number[], counts: readonly number[], q: number, max?: number): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) {
      const upper = i < bounds.length ? bounds[i] : Infinity;
      return max !== undefined ? Math.min(upper, max) : upper;
    }
  }
  return max;
}

/** One kernel histogram value, in kernel units (ns). */
export interface KernelHistogram { count: number; sum: number; min: number | undefined; max: number | undefined; counts: number[] }

interface HistFields { count: { offset: number }; sum: { offset: number }; max: { offset: number }; min_inv: { offset: number }; buckets: { offset: number } }

/** Decodes the count/sum/max/min_inv/buckets fields of a value struct at `at` (layout from the generated file). */
export function readKernelHistogram(values: Buffer, at: number, f: HistFields, layout: HistogramLayout): KernelHistogram {
  const u = (o: number) => Number(values.readBigUInt64LE(at + o));
  const count = u(f.count.offset);
  const counts = new Array<number>(layout.nbounds + 1);
  for (let i = 0; i <= layout.nbounds; i++) counts[i] = u(f.buckets.offset + i * 8);
  const minInv = values.readBigUInt64LE(at + f.min_inv.offset);
  return {
    count, sum: u(f.sum.offset), counts,
    max: count ? u(f.max.offset) : undefined,
    min: count ? Number(~minInv & 0xffffffffffffffffn) : undefined,
  };
}

/**
 * Turns cumulative kernel histograms into the exported temporality. Cumulative: as read, from a
 * fixed start. Delta: the difference from the previous read; min/max are reported only when the
 * running min/max moved during the interval (then they are exactly the interval's).
 */
export class HistogramTemporality {
  private readonly previous = new Map<string, { h: KernelHistogram; at: [number, number] }>();
  readonly delta: boolean;
  constructor(delta: boolean) { this.delta = delta; }

  next(key: string, h: KernelHistogram, now: [number, number], start: [number, number]): { h: KernelHistogram; start: [number, number] } | undefined {
    if (!this.delta) return { h, start };
    const prev = this.previous.get(key);
    this.previous.set(key, { h, at: now });
    if (!prev) return { h, start };
    if (h.count === prev.h.count) return undefined;
    return {
      start: prev.at,
      h: {
        count: h.count - prev.h.count,
        sum: h.sum - prev.h.sum,
        counts: h.counts.map((c, i) => c - (prev.h.counts[i] ?? 0)),
        max: h.max !== prev.h.max ? h.max : undefined,
        min: h.min !== prev.h.min ? h.min : undefined,
      },
    };
  }

  /** Same for a plain counter. */
  nextCount(key: string, value: number, now: [number, number], start: [number, number]): { value: number; start: [number, number] } {
    if (!this.delta) return { value, start };
    const k = `#${key}`;
    const prev = this.previous.get(k);
    this.previous.set(k, { h: { count: value, sum: 0, counts: [], min: undefined, max: undefined }, at: now });
    return prev ? { value: value - prev.h.count, start: prev.at } : { value, start };
  }

  forget(prefix: string): void {
    for (const k of this.previous.keys()) if (k.startsWith(prefix) || k.startsWith(`#${prefix}`)) this.previous.delete(k);
  }
}

/**
 * Per-CPU histogram maps: dump() sums every u64 slot over CPUs, which is right for count, sum
 * and buckets but not for max and min. This reads the key's per-CPU values and replaces them
 * with the max over CPUs of max, and of min_inv (→ the min).
 */
export function perCpuMinMax(lookupPerCpu: (key: Buffer) => Buffer[] | null, key: Buffer, h: KernelHistogram, f: HistFields): void {
  if (!h.count) return;
  const values = lookupPerCpu(key);
  if (!values) return;
  let max = 0n, minInv = 0n;
  for (const v of values) {
    const m = v.readBigUInt64LE(f.max.offset), mi = v.readBigUInt64LE(f.min_inv.offset);
    if (m > max) max = m;
    if (mi > minInv) minInv = mi;
  }
  h.max = Number(max);
  h.min = Number(~minInv & 0xffffffffffffffffn);
}
