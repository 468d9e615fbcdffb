// Settings of the blockio receiver and their JSON Schema (defaults applied by the loader).
import { DEFAULT_HISTOGRAM, histogramSchema, type HistogramSettings } from '../../pipeline/kernel-histogram.ts';

export interface BlockioSettings {
  histogram: HistogramSettings;
  temporality: 'cumulative' | 'delta';
  queue_time: boolean;
  cgroups: { attribute: boolean };
  hook: 'auto' | 'tp_btf' | 'raw_tp' | 'tracepoint';
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
        attribute: { description: 'Attribute requests to the submitting cgroup (blk-cgroup); at most 64 distinct cgroups, the rest count as unattributed.', type: 'boolean', default: true },
      },
    },
    hook: { enum: ['auto', 'tp_btf', 'raw_tp', 'tracepoint'], default: 'auto' },
  },
} as const;

export function withDefaults(s: Partial<BlockioSettings>): BlockioSettings {
  return {
    histogram: { ...DEFAULT_HISTOGRAM, ...(s.histogram ?? {}) },
    temporality: s.temporality ?? 'cumulative',
    queue_time: s.queue_time ?? false,
    cgroups: { attribute: s.cgroups?.attribute ?? true },
    hook: s.hook ?? 'auto',
  };
}
