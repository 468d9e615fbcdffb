// The kernel's bucket function (bpf/include/kotel_hist.h) and its TypeScript mirror agree on the
// same values, and both put a value equal to a bound in the bucket OTLP puts it in: (b[i-1], b[i]].
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { BpfObject } from '../../../native/index.ts';
import { objectPath, u32 } from '../../../src/bpf/loader.ts';
import { boundOf, boundsNs, bucketOf, layoutFromSettings, quantileUpperBound, type HistogramLayout } from '../../../src/pipeline/kernel-histogram.ts';

/** OTLP explicit-bucket semantics: index of the first bound >= v (upper-inclusive), or bounds.length. */
function otlpBucket(bounds: number[], v: number): number {
  const i = bounds.findIndex((b) => v <= b);
  return i < 0 ? bounds.length : i;
}

/** Probe values: every bound, its neighbours, powers of two and their neighbours, and extremes. */
function probes(layout: HistogramLayout): bigint[] {
  const set = new Set<bigint>([0n, 1n, 2n, 3n, 2n ** 63n, 2n ** 64n - 1n]);
  for (const b of boundsNs(layout)) for (const d of [-1, 0, 1]) set.add(BigInt(b + d));
  for (let k = 0; k < 63; k++) for (const d of [-1n, 0n, 1n]) set.add((1n << BigInt(k)) + d);
  return [...set].filter((v) => v >= 0n && v < 2n ** 64n);
}

const LAYOUTS: HistogramLayout[] = [
  layoutFromSettings({}),
  layoutFromSettings({ sub_buckets: 1, min_ns: 1, max_ns: 2 ** 40 }),
  layoutFromSettings({ sub_buckets: 16, min_ns: 4096, max_ns: 1e6 }),
  layoutFromSettings({ sub_buckets: 8, min_ns: 1000, max_ns: 1e8 }),
];

describe('kernel histogram buckets (ceil-based, OTLP upper-inclusive)', () => {
  it('bounds are strictly increasing integers; the default spans ~1 µs .. >= 100 s at 4 per power of two', () => {
    for (const l of LAYOUTS) {
      const b = boundsNs(l);
      assert.ok(b.every((x, i) => Number.isInteger(x) && (i === 0 || x > b[i - 1])));
    }
    const d = boundsNs(LAYOUTS[0]);
    assert.equal(d[0], 1024);
    assert.deepEqual(d.slice(0, 6), [1024, 1280, 1536, 1792, 2048, 2560]);
    assert.ok(d.at(-1)! >= 100e9 && d.at(-2)! < 100e9);
  });

  it('the TypeScript mirror puts every probe value where OTLP does (a value equal to a bound stays in that bound\'s bucket)', () => {
    for (const l of LAYOUTS) {
      const bounds = boundsNs(l);
      for (const v of probes(l)) {
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) { assert.equal(bucketOf(v, l), l.nbounds); continue; }
        assert.equal(bucketOf(v, l), otlpBucket(bounds, Number(v)), `v=${v} layout=${JSON.stringify(l)}`);
      }
      for (let i = 0; i < l.nbounds; i++) assert.equal(bucketOf(boundOf(i, l), l), i, `bound ${i} lands in bucket ${i}`);
    }
  });

  it('a floor(log2) mapping would be off by one at exact powers of two (the bug this avoids)', () => {
    const l = layoutFromSettings({ sub_buckets: 1, min_ns: 1, max_ns: 2 ** 20 });
    const floorBucket = (v: number) => Math.floor(Math.log2(v));   // ebpf_exporter-style: 2^k → bucket k
    const bounds = boundsNs(l);                                     // 2^k is bound k-? : bounds[i] = 2^(i+minExp)
    const v = 1024;
    assert.equal(bucketOf(v, l), otlpBucket(bounds, v));
    assert.notEqual(floorBucket(v) - l.minExp + 1, otlpBucket(bounds, v));
  });

  it('the kernel computes the same buckets as the mirror (BPF program run on the same values)', function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const l of LAYOUTS) {
      const obj = new BpfObject(objectPath('blockio.bpf.o'));
      try {
        for (const p of obj.programs()) obj.setAutoload(p.name, p.name === 'bucket_selftest');
        obj.setGlobal('selftest_tgid', u32(process.pid));
        obj.setGlobal('sub_bits', u32(l.subBits));
        obj.setGlobal('min_exp', u32(l.minExp));
        obj.setGlobal('nbounds', u32(l.nbounds));
        obj.load();
        const values = probes(l);
        const input = obj.map('selftest_in'), output = obj.map('selftest_out');
        for (let start = 0; start < values.length; start += 512) {
          const chunk = values.slice(start, start + 512);
          chunk.forEach((v, i) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); input.update(u32(i), b); });
          obj.attach('bucket_selftest');
          statSync('/');                       // any syscall of this process runs the program
          obj.detach('bucket_selftest');
          chunk.forEach((v, i) => assert.equal(output.lookup(u32(i))!.readUInt32LE(0), bucketOf(v, l), `kernel vs mirror at v=${v} layout=${JSON.stringify(l)}`));
        }
      } finally {
        obj.close();
      }
    }
  });

  it('quantiles from explicit buckets are the bucket upper bounds, clamped to max', () => {
    const bounds = [1, 2, 4, 8];
    const counts = [10, 80, 9, 1, 0];
    assert.equal(quantileUpperBound(bounds, counts, 0.5), 2);
    assert.equal(quantileUpperBound(bounds, counts, 0.95), 4);
    assert.equal(quantileUpperBound(bounds, counts, 0.99), 4);
    assert.equal(quantileUpperBound(bounds, counts, 1, 7.5), 7.5);
    assert.equal(quantileUpperBound(bounds, [0, 0, 0, 0, 0], 0.5), undefined);
  });

  it('settings that need more buckets than the kernel has are refused in plain words', () => {
    assert.throws(() => layoutFromSettings({ sub_buckets: 16, min_ns: 16, max_ns: 2 ** 50 }), /exceed the kernel's 159/);
    assert.throws(() => layoutFromSettings({ sub_buckets: 4, min_ns: 4096, max_ns: 1000 }), /must be above min_ns/);
  });
});
