// Settings of the syscalls receiver and their JSON Schema (defaults applied by the loader).
import { CATEGORIES, DEFAULT_WATCH, type WatchRule } from './watchlist.ts';

export interface SyscallsSettings {
  watch: WatchRule[];
  include_routine: boolean;
  rate_limit: { records_per_second: number };
  filters: { pids: number[]; cgroups: string[] };
  hook: 'auto' | 'tp_btf' | 'raw_tp' | 'tracepoint';
}

export const syscallsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    watch: {
      description: 'Which failures to report; default: the health-observer list (see README).',
      type: 'array',
      minItems: 1,
      default: DEFAULT_WATCH,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['syscalls', 'errnos'],
        properties: {
          syscalls: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9_]+$' } },
          errnos: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(\\*|E[A-Z0-9]+)$' } },
          category: { enum: [...CATEGORIES], default: 'other' },
        },
      },
    },
    include_routine: {
      description: 'With errnos ["*"], also report EAGAIN, EINPROGRESS, EINTR, ETIMEDOUT, ENOENT.',
      type: 'boolean', default: false,
    },
    rate_limit: {
      type: 'object', additionalProperties: false, default: {},
      properties: { records_per_second: { type: 'integer', minimum: 1, maximum: 100000, default: 10 } },
    },
    filters: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        pids: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [] },
        cgroups: { description: 'cgroup v2 paths, e.g. /system.slice/nginx.service', type: 'array', items: { type: 'string' }, default: [] },
      },
    },
    hook: { enum: ['auto', 'tp_btf', 'raw_tp', 'tracepoint'], default: 'auto' },
  },
} as const;

export function withDefaults(s: Partial<SyscallsSettings>): SyscallsSettings {
  return {
    watch: s.watch ?? DEFAULT_WATCH,
    include_routine: s.include_routine ?? false,
    rate_limit: { records_per_second: s.rate_limit?.records_per_second ?? 10 },
    filters: { pids: s.filters?.pids ?? [], cgroups: s.filters?.cgroups ?? [] },
    hook: s.hook ?? 'auto',
  };
}
