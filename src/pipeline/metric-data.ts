// Builders for the SDK's metric data shapes: kotel reads kernel aggregates from maps and
// hands them to the official exporters directly, per workload resource.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics, type SumMetricData, type GaugeMetricData } from '@opentelemetry/sdk-metrics';
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
