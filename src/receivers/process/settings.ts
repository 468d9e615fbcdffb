// Settings of the process receiver and their JSON Schema (defaults applied by the loader).
export interface ProcessSettings {
  logs: { exec: boolean; abnormal_exit: boolean };
  command_line: { redact: string[] };
  lifetime_buckets: number[];
  max_series: number;
  scan_proc: boolean;
  hook: 'auto' | 'tp_btf' | 'raw_tp';
}

export const DEFAULT_LIFETIME_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 21600, 86400];

export const processSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logs: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        exec: { description: 'A log record for every exec.', type: 'boolean', default: false },
        abnormal_exit: { description: 'A log record for every exit with a non-zero code or by a signal.', type: 'boolean', default: true },
      },
    },
    command_line: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        redact: {
          description: 'Extra regular expressions (case-insensitive) redacted from process.command_line; a capture group 1 is kept. The built-in pattern (password, secret, token, api key… flags) always applies.',
          type: 'array', items: { type: 'string', minLength: 1 }, default: [],
        },
      },
    },
    lifetime_buckets: { description: 'Bounds (seconds) of the linux.process.lifetime histogram.', type: 'array', minItems: 1, items: { type: 'number', exclusiveMinimum: 0 }, default: DEFAULT_LIFETIME_BUCKETS },
    max_series: { description: 'Bound on (workload, executable) series; more are counted as kotel.receiver.dropped{reason=series_limit}.', type: 'integer', minimum: 1, maximum: 100000, default: 2000 },
    scan_proc: { description: 'Read every existing process from /proc once at start.', type: 'boolean', default: true },
    hook: { enum: ['auto', 'tp_btf', 'raw_tp'], default: 'auto' },
  },
} as const;

export function withDefaults(s: Partial<ProcessSettings>): ProcessSettings {
  return {
    logs: { exec: s.logs?.exec ?? false, abnormal_exit: s.logs?.abnormal_exit ?? true },
    command_line: { redact: s.command_line?.redact ?? [] },
    lifetime_buckets: [...(s.lifetime_buckets ?? DEFAULT_LIFETIME_BUCKETS)].sort((a, b) => a - b),
    max_series: s.max_series ?? 2000,
    scan_proc: s.scan_proc ?? true,
    hook: s.hook ?? 'auto',
  };
}
