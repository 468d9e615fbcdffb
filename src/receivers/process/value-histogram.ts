// Explicit-bucket histograms accumulated in user space from per-event records (one record per
// process exit or per connection): exact count/sum/min/max, OTLP's upper-inclusive buckets.
export class ValueHistogram {
  readonly counts: number[];
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly bounds: readonly number[];
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(v: number): void {
    let lo = 0, hi = this.bounds.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (v <= this.bounds[mid]) hi = mid; else lo = mid + 1; }
    this.counts[lo]++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

/** Keeps at most `max` keyed series; further keys are refused (and counted) rather than growing memory. */
export class BoundedSeries<T> {
  readonly series = new Map<string, T>();
  refused = 0;
  private readonly max: number;
  constructor(max: number) { this.max = max; }
  get(key: string, create: () => T): T | undefined {
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.max) { this.refused++; return undefined; }
      this.series.set(key, (s = create()));
    }
    return s;
  }
}
