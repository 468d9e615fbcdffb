// A lean ReadableSpan for spans built from kernel records. Ids and times stay binary, in the
// layout the OTLP serializer copies as-is (ids as bytes, times as fixed64 little-endian), in shared
// slabs instead of one small buffer per span; the hex ids and HrTimes the SDK interface asks for are
// computed only when something reads them (the console exporter, tests).
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type Link, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

/** Byte layout of one span's binary fields in a slab. */
export const TRACE_ID = 0;      // 16 bytes
export const SPAN_ID = 16;      // 8
export const PARENT_ID = 24;    // 8, all zero: no parent
export const START = 32;        // fixed64 LE, Unix ns
export const END = 40;          // fixed64 LE, Unix ns
export const SPAN_BYTES = 48;

const SLAB_SPANS = 2048;
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];

/** Hands out SPAN_BYTES-sized places in slabs; a slab is freed when its last span is. */
export class SpanSlab {
  bytes = new Uint8Array(SPAN_BYTES * SLAB_SPANS);
  view = new DataView(this.bytes.buffer);
  private next = 0;

  /** Offset of a fresh place in `bytes`/`view` (read them after calling this). */
  take(): number {
    if (this.next === this.bytes.length) {
      this.bytes = new Uint8Array(SPAN_BYTES * SLAB_SPANS);
      this.view = new DataView(this.bytes.buffer);
      this.next = 0;
    }
    const at = this.next;
    this.next += SPAN_BYTES;
    return at;
  }
}

function hex(b: Uint8Array, at: number, n: number): string {
  return Buffer.from(b.buffer, b.byteOffset + at, n).toString('hex');
}

function isZero(b: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[at + i] !== 0) return false;
  return true;
}

function nsOf(b: Uint8Array, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);
}

function hrTime(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

export class KernelSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  /** Attributes many spans share (the same object: the serializer encodes it once). */
  readonly sharedAttributes: Attributes;
  /** This span's own attributes. */
  readonly ownAttributes: Attributes;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly statusCode: SpanStatusCode;
  /** The parent came from another process (a traceparent header), not from this host's kernel. */
  readonly parentIsRemote: boolean;
  readonly bytes: Uint8Array;
  readonly at: number;
  // Constants live on the prototype: fewer fields per span, less for the GC to copy.
  get links(): Link[] { return NO_LINKS; }
  get events(): TimedEvent[] { return NO_EVENTS; }
  get ended(): boolean { return true; }
  get droppedAttributesCount(): number { return 0; }
  get droppedEventsCount(): number { return 0; }
  get droppedLinksCount(): number { return 0; }

  constructor(name: string, kind: SpanKind, sharedAttributes: Attributes, ownAttributes: Attributes, statusCode: SpanStatusCode,
    parentIsRemote: boolean, slab: SpanSlab, at: number, resource: Resource, scope: InstrumentationScope) {
    this.name = name;
    this.kind = kind;
    this.sharedAttributes = sharedAttributes;
    this.ownAttributes = ownAttributes;
    this.statusCode = statusCode;
    this.parentIsRemote = parentIsRemote;
    this.bytes = slab.bytes;
    this.at = at;
    this.resource = resource;
    this.instrumentationScope = scope;
  }

  /** The same span under another resource (the pipeline's resource processors). */
  withResource(resource: Resource): KernelSpan {
    const s = Object.create(KernelSpan.prototype) as KernelSpan;
    return Object.assign(s, this, { resource });
  }

  /** Shared, then own (one new object per read). */
  get attributes(): Attributes {
    return { ...this.sharedAttributes, ...this.ownAttributes };
  }

  get hasParent(): boolean {
    return !isZero(this.bytes, this.at + PARENT_ID, 8);
  }

  spanContext(): SpanContext {
    return { traceId: hex(this.bytes, this.at + TRACE_ID, 16), spanId: hex(this.bytes, this.at + SPAN_ID, 8), traceFlags: TraceFlags.SAMPLED, isRemote: false };
  }

  get parentSpanContext(): SpanContext | undefined {
    if (!this.hasParent) return undefined;
    return { traceId: hex(this.bytes, this.at + TRACE_ID, 16), spanId: hex(this.bytes, this.at + PARENT_ID, 8), traceFlags: TraceFlags.SAMPLED, isRemote: this.parentIsRemote };
  }

  get startTime(): HrTime { return hrTime(nsOf(this.bytes, this.at + START)); }
  get endTime(): HrTime { return hrTime(nsOf(this.bytes, this.at + END)); }
  get duration(): HrTime {
    const d = nsOf(this.bytes, this.at + END) - nsOf(this.bytes, this.at + START);
    return d < 0n ? [0, 0] : hrTime(d);
  }

  get status(): SpanStatus { return { code: this.statusCode }; }
}

/**
 * Writes a kernel CLOCK_MONOTONIC timestamp (u64 LE at `src`) as Unix ns (fixed64 LE at `dst`):
 * 64-bit addition of the clock offset in two 32-bit halves, no BigInt.
 */
export function writeWallTime(src: DataView, srcAt: number, dst: DataView, dstAt: number, offsetLo: number, offsetHi: number): void {
  const lo = src.getUint32(srcAt, true) + offsetLo;
  const hi = (src.getUint32(srcAt + 4, true) + offsetHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  dst.setUint32(dstAt, lo >>> 0, true);
  dst.setUint32(dstAt + 4, hi, true);
}

/** Copies n bytes (ids) without a native call per span. */
export function copyBytes(src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i];
}
