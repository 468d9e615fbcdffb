// Builders for the SDK's metric data shapes: kotel reads kernel aggregates from maps and
// hands them to the official exporters directly, per workload resource.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics, type SumMetricData, type GaugeMetricData, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';

export interface Point { attributes: Attributes; value: number; startTime: HrTime }

export function cumulativeSum(name: string, unit: string, description: string, endTime: HrTime, points: Point[], valueType = ValueType.INT): SumMetricData {
  return {
    descriptor: { name, unit, description, valueType },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map((p) => ({ startTime: p.startTime, endTime, attributes: p.attributes, value: p.value })),
  };
}

export function gauge(name: string, unit: string, description: string, time: HrTime, points: Array<{ attributes: Attributes; value: number }>, valueType = ValueType.INT): GaugeMetricData {
  return {
    descriptor: { name, unit, description, valueType },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map((p) => ({ startTime: time, endTime: time, attributes: p.attributes, value: p.value })),
  };
}

export function resourceMetrics(resource: Resource, scope: InstrumentationScope, metrics: MetricData[]): ResourceMetrics {
  return { resource, scopeMetrics: [{ scope, metrics }] };
}

export interface HistogramPoint { attributes: Attributes; startTime: HrTime; count: number; sum: number; min?: number; max?: number; counts: number[] }

/** Explicit-bucket histogram (bounds are upper-inclusive, counts has bounds.length + 1 entries). */
export function histogram(name: string, unit: string, description: string, endTime: HrTime, bounds: number[], points: HistogramPoint[], temporality = AggregationTemporality.CUMULATIVE): HistogramMetricData {
  return {
    descriptor: { name, unit, description, valueType: ValueType.DOUBLE },
    aggregationTemporality: temporality,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points.map((p) => ({
      startTime: p.startTime, endTime, attributes: p.attributes,
      value: { buckets: { boundaries: bounds, counts: p.counts }, count: p.count, sum: p.sum, min: p.min, max: p.max },
    })),
  };
}

/** Monotonic sum of either temporality (delta points carry their interval's start time). */
export function monotonicSum(name: string, unit: string, description: string, endTime: HrTime, points: Point[], temporality = AggregationTemporality.CUMULATIVE, valueType = ValueType.INT): SumMetricData {
  return { ...cumulativeSum(name, unit, description, endTime, points, valueType), aggregationTemporality: temporality };
}
