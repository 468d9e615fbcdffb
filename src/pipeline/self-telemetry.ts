// kotel's own metrics (records received, every drop by reason, export outcomes, BPF program
// run time), exported with kotel's own resource so they never mix with a workload's.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { cumulativeSum, gauge, resourceMetrics } from './metric-data.ts';
import { SELF_SCOPE } from './scope.ts';

export const SELF_METRICS = {
  'kotel.receiver.records': { unit: '{record}', description: 'Records received from the kernel, per receiver.', kind: 'sum' },
  'kotel.receiver.dropped': { unit: '{record}', description: 'Events lost before export, per receiver and reason (ringbuf_full, map_full, consumer_queue_full, decode_error, program_recursion with kotel.bpf.program, inflight_evicted, abandoned_request).', kind: 'sum' },
  'kotel.receiver.spans.sampled_out': { unit: '{span}', description: 'Spans a receiver did not build because the trace sampler (service.traces / OTEL_TRACES_SAMPLER) left them out.', kind: 'sum' },
  'kotel.exporter.sent': { unit: '{item}', description: 'Items (log records, spans, metric batches) the exporter delivered.', kind: 'sum' },
  'kotel.exporter.dropped': { unit: '{item}', description: 'Items the exporter could not deliver, per reason (queue_full, export_failed).', kind: 'sum' },
  'kotel.exporter.failures': { unit: '{export}', description: 'Export calls that failed after the exporter\'s own retries.', kind: 'sum' },
  'kotel.exporter.retries': { unit: '{export}', description: 'Export attempts retried after a transient failure.', kind: 'sum' },
  'kotel.exporter.splits': { unit: '{export}', description: 'Requests the receiver refused for their size, sent again as two halves.', kind: 'sum' },
  'kotel.exporter.queue.size': { unit: '{item}', description: 'Items waiting in the export queue.', kind: 'gauge' },
  'kotel.bpf.program.run_time': { unit: 's', description: 'Time the kernel spent in each BPF program (needs kernel.bpf_stats_enabled, which kotel turns on).', kind: 'sum', double: true },
  'kotel.bpf.program.runs': { unit: '{run}', description: 'Runs of each BPF program.', kind: 'sum' },
  'kotel.process_cache.hits': { unit: '{lookup}', description: 'Process-table lookups answered from the cache (enrichment without a /proc read).', kind: 'sum' },
  'kotel.process_cache.misses': { unit: '{lookup}', description: 'Process-table lookups that read /proc (unknown process, or its entry older than the TTL).', kind: 'sum' },
  'kotel.process_cache.size': { unit: '{process}', description: 'Processes held in the process table.', kind: 'gauge' },
  'kotel.cgroups.tracked': { unit: '{cgroup}', description: 'Cgroups the cgroups receiver exported at its last collection.', kind: 'gauge' },
  'kotel.cgroups.folded': { unit: '{cgroup}', description: 'Cgroups that matched the cgroups receiver\'s selection but were left out at its last collection because max_cgroups was reached.', kind: 'gauge' },
} as const;

export type SelfMetricName = keyof typeof SELF_METRICS;
export type Observe = (name: SelfMetricName, attributes: Attributes, value: number) => void;

export class SelfTelemetry {
  private readonly sources: Array<(observe: Observe) => void> = [];
  private readonly resource: Resource;
  private readonly startTime: HrTime;

  constructor(resource: Resource, startTime: HrTime) {
    this.resource = resource;
    this.startTime = startTime;
  }

  /** A source reports cumulative values each collection; it is read, never pushed to. */
  addSource(source: (observe: Observe) => void): void {
    this.sources.push(source);
  }

  collect(now: HrTime): ResourceMetrics {
    const points = new Map<SelfMetricName, Array<{ attributes: Attributes; value: number }>>();
    const observe: Observe = (name, attributes, value) => {
      let list = points.get(name);
      if (!list) points.set(name, (list = []));
      list.push({ attributes, value });
    };
    for (const source of this.sources) source(observe);
    const metrics = [...points].map(([name, list]) => {
      const def = SELF_METRICS[name];
      const valueType = 'double' in def ? ValueType.DOUBLE : ValueType.INT;
      return def.kind === 'gauge'
        ? gauge(name, def.unit, def.description, now, list, valueType)
        : cumulativeSum(name, def.unit, def.description, now, list.map((p) => ({ ...p, startTime: this.startTime })), valueType);
    });
    return resourceMetrics(this.resource, SELF_SCOPE, metrics);
  }
}

/** The process table's lookup statistics (enrichment cost): hits, misses and its size. */
export function processCacheSource(cache: { hits: number; misses: number; size: number }): (observe: Observe) => void {
  return (observe) => {
    observe('kotel.process_cache.hits', {}, cache.hits);
    observe('kotel.process_cache.misses', {}, cache.misses);
    observe('kotel.process_cache.size', {}, cache.size);
  };
}
