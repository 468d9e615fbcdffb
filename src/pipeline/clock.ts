// Kernel timestamps are CLOCK_MONOTONIC nanoseconds; OTLP wants wall-clock time. The offset is
// measured once (libuv's hrtime is CLOCK_MONOTONIC too) and applied in integer nanoseconds.
import type { HrTime } from '@opentelemetry/api';

export class MonotonicClock {
  private readonly offsetNs: bigint;
  /** The offset as the two 32-bit halves of a 64-bit two's-complement value (see writeWallTime). */
  readonly offsetLo: number;
  readonly offsetHi: number;

  constructor() {
    // Take the smallest-gap pair of readings so the offset error stays in the microseconds.
    let best: bigint | undefined;
    let bestGap = Infinity;
    for (let i = 0; i < 5; i++) {
      const a = process.hrtime.bigint();
      const wallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
      const b = process.hrtime.bigint();
      const gap = Number(b - a);
      if (gap < bestGap) { bestGap = gap; best = wallNs - (a + b) / 2n; }
    }
    this.offsetNs = best!;
    const u = BigInt.asUintN(64, this.offsetNs);
    this.offsetLo = Number(u & 0xffffffffn);
    this.offsetHi = Number(u >> 32n);
  }

  toHrTime(monotonicNs: bigint): HrTime {
    const wall = monotonicNs + this.offsetNs;
    return [Number(wall / 1_000_000_000n), Number(wall % 1_000_000_000n)];
  }

  now(): HrTime {
    return this.toHrTime(process.hrtime.bigint());
  }
}
