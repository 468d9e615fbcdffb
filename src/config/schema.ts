// JSON schemas for the file's structure and for the built-in exporters and processors, plus the ajv setup
// that turns ajv's errors into plain-words problems with a path (ids and cross-references are checked in load.ts).

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { DURATION_HINT, parseDuration } from './duration.ts';
import { SAMPLER_NAMES } from '../pipeline/sampler.ts';
import { suggestion } from './errors.ts';
import { BATCH_DEFAULTS } from '../pipeline/processors.ts';

export type PathSegment = string | number;

export interface SchemaProblem {
  /** Path of the offending key (unknown, missing or with a bad value) relative to the validated data. */
  path: PathSegment[];
  message: string;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictTypes: false });

/**
 * `duration: true` (or `{ minMs }`) accepts "500ms", "10s", "1m" or a number of milliseconds and replaces the value
 * in place with milliseconds, so every schema that uses it (receivers' too) hands out normalized numbers.
 */
function validateDuration(
  this: unknown,
  option: boolean | { minMs?: number },
  data: unknown,
  _parentSchema?: unknown,
  cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number },
): boolean {
  if (option === false) return true;
  const minMs = typeof option === 'object' ? (option.minMs ?? 0) : 0;
  const ms = parseDuration(data);
  if (ms === undefined || ms < minMs) {
    const message = ms === undefined ? `must be ${DURATION_HINT}` : `must be at least ${minMs}ms`;
    validateDuration.errors = [{ keyword: 'duration', message, params: { minMs } }];
    return false;
  }
  if (cxt?.parentData) cxt.parentData[cxt.parentDataProperty] = ms;
  return true;
}
validateDuration.errors = null as Partial<ErrorObject>[] | null;

ajv.addKeyword({
  keyword: 'duration',
  schemaType: ['boolean', 'object'],
  modifying: true,
  errors: true,
  validate: validateDuration as never,
});

const compiled = new WeakMap<object, ValidateFunction>();

/** Validate (and fill defaults into, and normalize durations in) `data` in place. */
export function validateAgainst(schema: object, data: unknown): SchemaProblem[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(data)) return [];
  return (validate.errors ?? []).filter((e) => !IGNORED_KEYWORDS.has(e.keyword)).map((e) => toProblem(e, data));
}

// Summary errors that only repeat what a more precise error already says.
const IGNORED_KEYWORDS = new Set(['if', 'anyOf', 'oneOf']);

function toProblem(e: ErrorObject, root: unknown): SchemaProblem {
  const path = pointerToPath(e.instancePath, root);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const valid = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
      return { path: [...path, key], message: `unknown key "${key}"${suggestion(key, valid, 'keys')}` };
    }
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: `required key "${String(p.missingProperty)}" is missing` };
    case 'type': {
      const types = Array.isArray(p.type) ? p.type : String(p.type).split(',');
      const want = types.filter((t) => t !== 'null').map((t) => (t === 'integer' ? 'an integer' : t === 'object' ? 'a map' : t === 'array' ? 'a list' : `a ${t}`));
      return { path, message: `must be ${want.join(' or ')} (got ${describe(e.data)})` };
    }
    case 'const': {
      // a `const` in a conditional schema says why in its description
      const why = (e.parentSchema as { description?: string } | undefined)?.description;
      return { path, message: why ? `${why} (got ${describe(e.data)})` : `must be ${JSON.stringify(p.allowedValue)} (got ${describe(e.data)})` };
    }
    case 'uniqueItems':
      return { path, message: `lists the same value twice (items ${String(p.j)} and ${String(p.i)})` };
    case 'enum':
      return { path, message: `must be one of: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')} (got ${describe(e.data)})` };
    case 'minItems':
      return { path, message: `must list at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}` };
    default:
      return { path, message: `${e.message ?? 'is invalid'} (got ${describe(e.data)})` };
  }
}

/** "/a/0/b~1c" → ['a', 0, 'b/c'], numbers only where the data at that point is a list. */
function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---- the file's structure -------------------------------------------------------------------------------------

const section = { type: ['object', 'null'] };
const idList = { type: 'array', items: { type: 'string' } };

export const pipelineSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { receivers: idList, processors: idList, exporters: idList },
};

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const topLevelSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['service'],
  properties: {
    receivers: section,
    processors: section,
    exporters: section,
    service: {
      type: 'object',
      additionalProperties: false,
      required: ['pipelines'],
      properties: {
        pipelines: { type: 'object', additionalProperties: pipelineSchema },
        // Head sampling of the spans receivers build (as OTEL_TRACES_SAMPLER / _ARG, which it overrides).
        traces: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            sampler: { enum: [...SAMPLER_NAMES] },
            sampler_arg: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
        telemetry: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            metrics: {
              type: ['object', 'null'], additionalProperties: false,
              properties: {
                interval: { duration: { minMs: 1 } },
                // Off by default: the kernel's run-time accounting roughly doubles every hook's cost.
                bpf_run_time: { type: 'boolean' },
              },
            },
            logs: { type: ['object', 'null'], additionalProperties: false, properties: { level: { enum: [...LOG_LEVELS] } } },
            // The Collector's place for its own resource; kotel uses it for selfResource.
            resource: { type: ['object', 'null'], additionalProperties: { type: ['string', 'number', 'boolean'] } },
          },
        },
      },
    },
  },
};

// ---- exporters ------------------------------------------------------------------------------------------------

const headers = { type: ['object', 'null'], additionalProperties: { type: ['string', 'number', 'boolean'] } };
const nonEmptyString = { type: 'string', minLength: 1 };

const otlpCommon = {
  headers,
  tls: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { insecure: { type: 'boolean' }, ca_file: nonEmptyString, cert_file: nonEmptyString, key_file: nonEmptyString },
  },
  compression: { enum: ['gzip', 'none'] },
  timeout: { duration: { minMs: 1 } },
  sending_queue: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { enabled: { type: 'boolean' }, queue_size: { type: 'integer', minimum: 1 } },
  },
  retry_on_failure: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { enabled: { type: 'boolean' }, max_elapsed_time: { duration: true } },
  },
};

const consoleSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { verbosity: { enum: ['basic', 'normal', 'detailed'] } },
};

/** Exporter types by the name used in the file; `debug` is the Collector's name for the console exporter. */
export const exporterSchemas: Record<string, object> = {
  otlp: { type: 'object', additionalProperties: false, properties: { endpoint: nonEmptyString, ...otlpCommon } },
  otlphttp: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: nonEmptyString,
      logs_endpoint: nonEmptyString,
      metrics_endpoint: nonEmptyString,
      traces_endpoint: nonEmptyString,
      encoding: { enum: ['proto'] }, // the Collector's json encoding is not supported
      ...otlpCommon,
    },
  },
  console: consoleSchema,
  debug: consoleSchema,
};

// ---- processors -----------------------------------------------------------------------------------------------

export const RESOURCE_ACTIONS = ['insert', 'update', 'upsert', 'delete'] as const;

export const processorSchemas: Record<string, object> = {
  batch: {
    type: 'object',
    additionalProperties: false,
    properties: {
      // The Collector's defaults; requests also stay under the receiver's size limit (see export-queue.ts).
      timeout: { duration: { minMs: 1 }, default: `${BATCH_DEFAULTS.timeoutMs}ms` },
      send_batch_size: { type: 'integer', minimum: 1, default: BATCH_DEFAULTS.sendBatchSize },
      send_batch_max_size: { type: 'integer', minimum: 0 }, // absent: send_batch_size; 0: no limit
    },
  },
  resource: {
    type: 'object',
    additionalProperties: false,
    required: ['attributes'],
    properties: {
      attributes: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['key', 'action'],
          properties: {
            key: nonEmptyString,
            value: { type: ['string', 'number', 'boolean'] },
            action: { enum: [...RESOURCE_ACTIONS] },
          },
        },
      },
    },
  },
  // Passed through as written until the filter processor lands.
  filter: { type: 'object' },
};
