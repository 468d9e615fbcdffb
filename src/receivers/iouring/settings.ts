// Settings of the iouring receiver and their JSON Schema (defaults applied by the loader).
import { DEFAULT_HISTOGRAM, histogramSchema, type HistogramSettings } from '../../pipeline/kernel-histogram.ts';

export interface IouringSettings {
  histogram: HistogramSettings;
  temporality: 'cumulative' | 'delta';
  hook: 'auto' | 'tp_btf' | 'tracepoint';
}

export const iouringSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    histogram: histogramSchema,
    temporality: { description: 'cumulative (fixed start time) or delta (per export interval).', enum: ['cumulative', 'delta'], default: 'cumulative' },
    hook: { enum: ['auto', 'tp_btf', 'tracepoint'], default: 'auto' },
  },
} as const;

export function withDefaults(s: Partial<IouringSettings>): IouringSettings {
  return {
    histogram: { ...DEFAULT_HISTOGRAM, ...(s.histogram ?? {}) },
    temporality: s.temporality ?? 'cumulative',
    hook: s.hook ?? 'auto',
  };
}
