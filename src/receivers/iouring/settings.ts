// Settings of the iouring receiver and their JSON Schema (defaults applied by the loader).
import { DEFAULT_HISTOGRAM, histogramSchema, type HistogramSettings } from '../../pipeline/kernel-histogram.ts';
import { limitsSchema, type MapLimits } from '../limits.ts';

export interface IouringLimits extends MapLimits { processes: number }
const DEFAULT_LIMITS: IouringLimits = { in_flight: 16384, series: 4096, errors: 2048, processes: 1024 };
const baseLimits = limitsSchema(DEFAULT_LIMITS);

export interface IouringSettings {
  histogram: HistogramSettings;
  temporality: 'cumulative' | 'delta';
  hook: 'auto' | 'tp_btf' | 'tracepoint';
  limits: IouringLimits;
}

export const iouringSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    histogram: histogramSchema,
    temporality: { description: 'cumulative (fixed start time) or delta (per export interval).', enum: ['cumulative', 'delta'], default: 'cumulative' },
    hook: { enum: ['auto', 'tp_btf', 'tracepoint'], default: 'auto' },
    limits: {
      ...baseLimits,
      properties: {
        ...baseLimits.properties,
        series: { ...baseLimits.properties.series, description: 'Distinct (process, opcode) histograms kept in the kernel; beyond, completions are counted as map_full drops.' },
        processes: {
          description: 'Processes with CQ overflows or extra completions tracked; beyond, those are counted as map_full drops.',
          type: 'integer', minimum: 1, maximum: 1 << 20, default: DEFAULT_LIMITS.processes,
        },
      },
    },
  },
} as const;

export function withDefaults(s: Partial<IouringSettings>): IouringSettings {
  return {
    histogram: { ...DEFAULT_HISTOGRAM, ...(s.histogram ?? {}) },
    temporality: s.temporality ?? 'cumulative',
    hook: s.hook ?? 'auto',
    limits: { ...DEFAULT_LIMITS, ...(s.limits ?? {}) },
  };
}
