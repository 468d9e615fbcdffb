// Settings of the blockio receiver and their JSON Schema (defaults applied by the loader).
import { DEFAULT_HISTOGRAM, histogramSchema, type HistogramSettings } from '../../pipeline/kernel-histogram.ts';
import { limitsSchema, type MapLimits } from '../limits.ts';

const DEFAULT_LIMITS: MapLimits = { in_flight: 16384, series: 4096, errors: 1024 };

export interface BlockioSettings {
  histogram: HistogramSettings;
  temporality: 'cumulative' | 'delta';
  queue_time: boolean;
  cgroups: { attribute: boolean; max: number };
  hook: 'auto' | 'tp_btf' | 'raw_tp' | 'tracepoint';
  limits: MapLimits;
}

export const blockioSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    histogram: histogramSchema,
    temporality: { description: 'cumulative (fixed start time: lifetime figures) or delta (per export interval).', enum: ['cumulative', 'delta'], default: 'cumulative' },
    queue_time: { description: 'Also hook block_rq_insert and sum the time requests wait before issue.', type: 'boolean', default: false },
    cgroups: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        attribute: { description: 'Attribute requests to the submitting cgroup (blk-cgroup); at most `max` distinct cgroups, the rest count as unattributed.', type: 'boolean', default: true },
        max: { description: 'Distinct cgroups attributed; requests of further cgroups go to the unattributed series and are counted (kotel.receiver.dropped{kotel.reason=cgroup_unattributed}).', type: 'integer', minimum: 1, maximum: 65536, default: 64 },
      },
    },
    hook: { enum: ['auto', 'tp_btf', 'raw_tp', 'tracepoint'], default: 'auto' },
    limits: limitsSchema(DEFAULT_LIMITS),
  },
} as const;

export function withDefaults(s: Partial<BlockioSettings>): BlockioSettings {
  return {
    histogram: { ...DEFAULT_HISTOGRAM, ...(s.histogram ?? {}) },
    temporality: s.temporality ?? 'cumulative',
    queue_time: s.queue_time ?? false,
    cgroups: { attribute: s.cgroups?.attribute ?? true, max: s.cgroups?.max ?? 64 },
    hook: s.hook ?? 'auto',
    limits: { ...DEFAULT_LIMITS, ...(s.limits ?? {}) },
  };
}
