// Head sampling of the spans kotel builds from kernel records, as the SDK's standard samplers
// decide (OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, or service.traces in the config file).
// Receivers decide before building a span object, from the record's trace id bytes; metrics keep
// counting every request.

export const SAMPLER_NAMES = [
  'always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export interface SamplerConfig {
  name: SamplerName;
  /** traceidratio variants: the fraction of traces kept, 0…1 (default 1). */
  ratio: number;
}

// always_on (the SDK's default is parentbased_always_on): kotel exports every exchange unless told otherwise.
export const DEFAULT_SAMPLER: SamplerConfig = { name: 'always_on', ratio: 1 };

/** What the record says about the parent's sampled flag. */
export const PARENT_NONE = 0;          // a root span
export const PARENT_SAMPLED = 1;       // parent's traceparent had the sampled flag
export const PARENT_NOT_SAMPLED = 2;   // … did not
export const PARENT_UNKNOWN = 3;       // a parent whose flag the record does not carry: decided as a root
export type ParentFlag = typeof PARENT_NONE | typeof PARENT_SAMPLED | typeof PARENT_NOT_SAMPLED | typeof PARENT_UNKNOWN;

export class SpanSampler {
  readonly config: SamplerConfig;
  /** Every span is kept whatever the record says: callers may skip looking at parents. */
  readonly keepsAll: boolean;
  /** Whether a parent's flag changes the decision (callers look it up only then). */
  readonly parentBased: boolean;
  private readonly root: 'on' | 'off' | 'ratio';
  private readonly upperBound: number;

  constructor(config: SamplerConfig) {
    this.config = config;
    this.parentBased = config.name.startsWith('parentbased_');
    const root = config.name.replace('parentbased_', '');
    this.root = root === 'always_on' ? 'on' : root === 'always_off' ? 'off' : 'ratio';
    const ratio = Math.min(1, Math.max(0, Number.isFinite(config.ratio) ? config.ratio : 0));
    // The JS SDK's TraceIdRatioBasedSampler bound, so both keep the same traces.
    this.upperBound = ratio === 1 ? 4294967296 : Math.floor(ratio * 4294967295);
    if (this.root === 'ratio' && ratio === 1) this.root = 'on';
    this.keepsAll = this.root === 'on' && !this.parentBased;
  }

  /** Keep the span whose 16-byte trace id is at view[at]? */
  sample(view: DataView, at: number, parent: ParentFlag): boolean {
    if (this.parentBased && (parent === PARENT_SAMPLED || parent === PARENT_NOT_SAMPLED)) return parent === PARENT_SAMPLED;
    if (this.root === 'on') return true;
    if (this.root === 'off') return false;
    return traceIdBucket(view, at) < this.upperBound;
  }
}

/**
 * The SDK's TraceIdRatioBased accumulation: the XOR of the trace id's four big-endian 32-bit words.
 * An all-zero (invalid) id is never sampled by the SDK; it maps to a bucket no bound reaches.
 */
export function traceIdBucket(view: DataView, at: number): number {
  const a = view.getUint32(at), b = view.getUint32(at + 4), c = view.getUint32(at + 8), d = view.getUint32(at + 12);
  if ((a | b | c | d) === 0) return 4294967296;
  return (a ^ b ^ c ^ d) >>> 0;
}

/** OTEL_TRACES_SAMPLER(_ARG) → a config (undefined: not set), or the variable at fault and why. */
export function samplerFromEnv(name: string | undefined, arg: string | undefined): SamplerConfig | { envVar: string; message: string } | undefined {
  if (name === undefined) return undefined;
  const n = name.trim().toLowerCase();
  if (!(SAMPLER_NAMES as readonly string[]).includes(n)) {
    return { envVar: 'OTEL_TRACES_SAMPLER', message: `"${name}" is not supported by kotel; use one of ${SAMPLER_NAMES.join(', ')}` };
  }
  let ratio = 1;
  if (n.endsWith('traceidratio') && arg !== undefined && arg.trim() !== '') {
    ratio = Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) return { envVar: 'OTEL_TRACES_SAMPLER_ARG', message: `"${arg}" must be a number from 0 to 1` };
  }
  return { name: n as SamplerName, ratio };
}
