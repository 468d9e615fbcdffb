// Helpers over normalised metrics (OtlpReceiver.metrics(), Otelcol.metrics()).
//
// A stream is what OTLP identifies a series by: resource + scope name + metric name + point
// attributes. Two workloads (two resources) exporting the same attribute set are two streams.

import { isDeepStrictEqual } from 'node:util';
import type { Attributes, AttrValue, Metric, MetricPoint } from './otlp-normalize.ts';

/** A subset of attributes that must all be equal (deep), or a predicate. */
export type AttrFilter = Attributes | ((attributes: Attributes) => boolean);

export interface MetricQuery {
  /** filter on the resource attributes as well (e.g. { 'service.name': 'nginx' }) */
  resource?: AttrFilter;
}

export interface FoundPoint {
  metric: Metric;
  point: MetricPoint;
}

export function matchesAttrs(attributes: Attributes, filter?: AttrFilter): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(attributes);
  return Object.entries(filter).every(
    ([k, v]) => Object.hasOwn(attributes, k) && isDeepStrictEqual(attributes[k], v),
  );
}

function canonical(v: AttrValue): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.keys(v)
      .sort()
      .map((k) => [k, canonical(v[k])]);
  }
  return v;
}

/** A stable string key for an attribute set (order-independent). */
export function attrKey(attributes: Attributes): string {
  return JSON.stringify(canonical(attributes));
}

/** Every point of metric `name` whose attributes (and resource) match, in arrival order. */
export function pointsOf(
  metrics: readonly Metric[],
  name: string,
  attrFilter?: AttrFilter,
  query: MetricQuery = {},
): FoundPoint[] {
  const out: FoundPoint[] = [];
  for (const metric of metrics) {
    if (metric.name !== name || !matchesAttrs(metric.resource, query.resource)) continue;
    for (const point of metric.points) {
      if (matchesAttrs(point.attributes, attrFilter)) out.push({ metric, point });
    }
  }
  return out;
}

/**
 * The latest point of each matching stream (largest timeUnixNano; on a tie, the later arrival),
 * keyed by resource + scope + attribute set.
 */
export function latestPoints(
  metrics: readonly Metric[],
  name: string,
  attrFilter?: AttrFilter,
  query: MetricQuery = {},
): Map<string, FoundPoint> {
  const latest = new Map<string, FoundPoint>();
  for (const found of pointsOf(metrics, name, attrFilter, query)) {
    const key = `${attrKey(found.metric.resource)}|${found.metric.scope.name}|${attrKey(found.point.attributes)}`;
    const prev = latest.get(key);
    if (prev === undefined || found.point.timeUnixNano >= prev.point.timeUnixNano) latest.set(key, found);
  }
  return latest;
}

/**
 * For a cumulative sum (or a gauge): the last point's value per stream, added up over the
 * matching streams. undefined when no point matches. Throws on delta temporality (use
 * sumOfDeltas) and on histograms (use latestPoints and read count/sum/bucketCounts).
 */
export function latestSum(
  metrics: readonly Metric[],
  name: string,
  attrFilter?: AttrFilter,
  query: MetricQuery = {},
): number | undefined {
  const latest = latestPoints(metrics, name, attrFilter, query);
  if (latest.size === 0) return undefined;
  let total = 0;
  for (const { metric, point } of latest.values()) {
    if (metric.type !== 'sum' && metric.type !== 'gauge') {
      throw new Error(`latestSum(${name}): metric type is ${metric.type}, not sum or gauge`);
    }
    if (metric.temporality === 'delta') {
      throw new Error(`latestSum(${name}): the metric has delta temporality; use sumOfDeltas`);
    }
    total += point.value ?? 0;
  }
  return total;
}

/**
 * For a delta sum: all matching points' values added up (every export's increment). For a
 * delta histogram, the counts are added. undefined when no point matches. Throws on a
 * cumulative metric (adding cumulative points double-counts: use latestSum).
 */
export function sumOfDeltas(
  metrics: readonly Metric[],
  name: string,
  attrFilter?: AttrFilter,
  query: MetricQuery = {},
): number | undefined {
  const found = pointsOf(metrics, name, attrFilter, query);
  if (found.length === 0) return undefined;
  let total = 0;
  for (const { metric, point } of found) {
    if (metric.temporality !== 'delta') {
      throw new Error(
        `sumOfDeltas(${name}): temporality is ${metric.temporality ?? 'unspecified'} (type ${metric.type}), not delta; use latestSum`,
      );
    }
    total += metric.type === 'sum' ? (point.value ?? 0) : (point.count ?? 0);
  }
  return total;
}
