// kotel's own metrics: the process table's cache statistics, with kotel's resource.
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SumMetricData, GaugeMetricData } from '@opentelemetry/sdk-metrics';
import { SelfTelemetry, processCacheSource } from '../../src/pipeline/self-telemetry.ts';
import { ProcessCache } from '../../src/pipeline/processes.ts';
import { programStatsSource } from '../../src/bpf/telemetry.ts';

describe('pipeline: self telemetry — process cache statistics', () => {
  it('exports kotel.process_cache.hits / misses (cumulative) and size (gauge) with kotel\'s resource', () => {
    const cache = new ProcessCache();
    cache.resource(process.pid);   // miss: reads /proc
    cache.resource(process.pid);   // hit
    cache.resource(process.pid);   // hit
    const self = new SelfTelemetry(resourceFromAttributes({ 'service.name': 'kotel' }), [1, 0]);
    self.addSource(processCacheSource(cache));
    const rm = self.collect([2, 0]);
    assert.equal(rm.resource.attributes['service.name'], 'kotel');
    const m = new Map(rm.scopeMetrics[0].metrics.map((x) => [x.descriptor.name, x]));
    assert.equal((m.get('kotel.process_cache.hits') as SumMetricData).dataPoints[0].value, 2);
    assert.equal((m.get('kotel.process_cache.hits') as SumMetricData).isMonotonic, true);
    assert.equal((m.get('kotel.process_cache.misses') as SumMetricData).dataPoints[0].value, 1);
    assert.equal((m.get('kotel.process_cache.size') as GaugeMetricData).dataPoints[0].value, 1);
  });
});

describe('pipeline: self telemetry — BPF program statistics', () => {
  const programs = [
    { name: 'block_rq_issue_btf', id: 1, runTimeNs: 0, runCount: 0, recursionMisses: 0 },
    { name: 'block_rq_complete_btf', id: 2, runTimeNs: 0, runCount: 0, recursionMisses: 3 },
    { name: 'not_attached', id: 3, runTimeNs: 5, runCount: 1, recursionMisses: 9 },
  ];

  function collect(stats: typeof programs) {
    const self = new SelfTelemetry(resourceFromAttributes({ 'service.name': 'kotel' }), [1, 0]);
    self.addSource(programStatsSource('blockio', { programStats: () => stats }, ['block_rq_issue_btf', 'block_rq_complete_btf']));
    return new Map(self.collect([2, 0]).scopeMetrics[0].metrics.map((x) => [x.descriptor.name, x]));
  }

  it('runs the kernel skipped (recursion) are drops of the receiver, per program, with the statistics off', () => {
    const m = collect(programs);
    const dropped = (m.get('kotel.receiver.dropped') as SumMetricData).dataPoints.map((p) => [p.attributes['kotel.receiver'], p.attributes['kotel.reason'], p.attributes['kotel.bpf.program'], p.value]);
    assert.deepEqual(dropped, [['blockio', 'program_recursion', 'block_rq_issue_btf', 0], ['blockio', 'program_recursion', 'block_rq_complete_btf', 3]]);
    assert.equal(m.get('kotel.bpf.program.runs'), undefined, 'no run statistics while the kernel keeps none');
  });

  it('run time and runs appear once the kernel counts runs', () => {
    const m = collect(programs.map((p) => ({ ...p, runTimeNs: 2_000_000_000, runCount: 10 })));
    assert.deepEqual((m.get('kotel.bpf.program.runs') as SumMetricData).dataPoints.map((p) => p.value), [10, 10]);
    assert.deepEqual((m.get('kotel.bpf.program.run_time') as SumMetricData).dataPoints.map((p) => p.value), [2, 2]);
  });
});
