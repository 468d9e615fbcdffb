// Cumulative duration and body-size histograms per workload process and attribute set,
// aggregated from the exchange records (one record per request already crosses to user space).
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type ExponentialHistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import { histogram, type HistogramPoint } from '../../pipeline/metric-data.ts';

/** Upper-inclusive explicit buckets: bucket i holds (bounds[i-1], bounds[i]]. */
export function explicitBucket(bounds: number[], v: number): number {
  let lo = 0, hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= bounds[mid]) hi = mid; else lo = mid + 1;
  }
  return lo;
}

export const EXPONENTIAL_SCALE = 3;   // base 2^(1/8): ~9% relative error
const SCALE_FACTOR = 2 ** EXPONENTIAL_SCALE;

/** OTLP exponential bucket index of v > 0: bucket i holds (base^i, base^(i+1)]. */
export function exponentialIndex(v: number): number {
  return Math.ceil(Math.log2(v) * SCALE_FACTOR) - 1;
}

interface Series {
  attributes: Attributes;
  startTime: HrTime;
  count: number;
  sum: number;
  min: number;
  max: number;
  counts: number[];                 // explicit
  exp: Map<number, number>;         // exponential index → count
  zero: number;
}

export class HistogramSet {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  private readonly bounds: number[];
  private readonly exponential: boolean;
  private readonly series = new Map<string, Series>();

  constructor(name: string, unit: string, description: string, bounds: number[], exponential: boolean) {
    this.name = name;
    this.unit = unit;
    this.description = description;
    this.bounds = bounds;
    this.exponential = exponential;
  }

  get size(): number { return this.series.size; }

  record(key: string, attributes: Attributes, v: number, now: HrTime): void {
    let s = this.series.get(key);
    if (!s) {
      s = { attributes, startTime: now, count: 0, sum: 0, min: Infinity, max: -Infinity, counts: this.exponential ? [] : new Array(this.bounds.length + 1).fill(0), exp: new Map(), zero: 0 };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += v;
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    if (!this.exponential) s.counts[explicitBucket(this.bounds, v)]++;
    else if (v <= 0) s.zero++;
    else {
      const i = exponentialIndex(v);
      s.exp.set(i, (s.exp.get(i) ?? 0) + 1);
    }
  }

  data(endTime: HrTime): MetricData | undefined {
    if (!this.series.size) return undefined;
    if (!this.exponential) {
      const points: HistogramPoint[] = [...this.series.values()].map((s) => ({
        attributes: s.attributes, startTime: s.startTime, count: s.count, sum: s.sum, min: s.min, max: s.max, counts: s.counts.slice(),
      }));
      return histogram(this.name, this.unit, this.description, endTime, this.bounds, points);
    }
    const data: ExponentialHistogramMetricData = {
      descriptor: { name: this.name, unit: this.unit, description: this.description, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: [...this.series.values()].map((s) => {
        const idx = [...s.exp.keys()];
        const offset = idx.length ? Math.min(...idx) : 0;
        const top = idx.length ? Math.max(...idx) : -1;
        const bucketCounts = new Array(top - offset + 1).fill(0);
        for (const [i, c] of s.exp) bucketCounts[i - offset] = c;
        return {
          startTime: s.startTime, endTime, attributes: s.attributes,
          value: { count: s.count, sum: s.sum, min: s.min, max: s.max, scale: EXPONENTIAL_SCALE, zeroCount: s.zero, positive: { offset, bucketCounts }, negative: { offset: 0, bucketCounts: [] } },
        };
      }),
    };
    return data;
  }
}
