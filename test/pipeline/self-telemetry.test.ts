// kotel's own metrics: the process table's cache statistics, with kotel's resource.
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SumMetricData, GaugeMetricData } from '@opentelemetry/sdk-metrics';
import { SelfTelemetry, processCacheSource } from '../../src/pipeline/self-telemetry.ts';
import { ProcessCache } from '../../src/pipeline/processes.ts';

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
