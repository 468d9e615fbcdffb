import assert from 'node:assert/strict';
import { BlockioKey, BlockioValue } from '../../../src/receivers/blockio/blockio.layout.ts';
import { decodeSeries } from '../../../src/receivers/blockio/blockio.ts';
import { blockErrorType, blockOpName, ioDirection } from '../../../src/receivers/blockio/mapping.ts';
import { HistogramTemporality, layoutFromSettings } from '../../../src/pipeline/kernel-histogram.ts';

const layout = layoutFromSettings({});

function entry(dev: number, op: number, samples: number[]): { key: Buffer; value: Buffer } {
  const key = Buffer.alloc(BlockioKey.size), value = Buffer.alloc(BlockioValue.size);
  key.writeUInt32LE(dev, BlockioKey.fields.dev.offset);
  key.writeUInt32LE(op, BlockioKey.fields.op.offset);
  key.writeBigUInt64LE(42n, BlockioKey.fields.cgroup_id.offset);
  const V = BlockioValue.fields;
  value.writeBigUInt64LE(BigInt(samples.length), V.count.offset);
  value.writeBigUInt64LE(BigInt(samples.reduce((a, b) => a + b, 0)), V.sum.offset);
  value.writeBigUInt64LE(BigInt(Math.max(...samples)), V.max.offset);
  value.writeBigUInt64LE(~BigInt(Math.min(...samples)) & 0xffffffffffffffffn, V.min_inv.offset);
  value.writeBigUInt64LE(4096n * BigInt(samples.length), V.bytes.offset);
  value.writeBigUInt64LE(3n, V.buckets.offset + 8 * 2);
  return { key, value };
}

describe('blockio: decoding kernel series', () => {
  it('decodes key and value at the generated offsets (min kept as ~min)', () => {
    const a = entry((7 << 20) | 3, 1, [1500, 1300, 1400]);
    const [s] = decodeSeries(a.key, a.value, 1, layout);
    assert.deepEqual([s.dev >>> 20, s.dev & 0xfffff, s.op, s.cgroupId, s.count, s.sumNs, s.bytes], [7, 3, 1, 42n, 3, 4200, 12288]);
    assert.equal(s.hist.min, 1300);
    assert.equal(s.hist.max, 1500);
    assert.equal(s.hist.counts.length, layout.nbounds + 1);
    assert.equal(s.hist.counts[2], 3);
  });

  it('classifies operations: read/write only get a direction; flush and discard keep their names', () => {
    assert.equal(ioDirection(0), 'read');
    assert.equal(ioDirection(1), 'write');
    assert.equal(ioDirection(2), undefined);
    assert.equal(ioDirection(3), undefined);
    assert.deepEqual([2, 3, 5, 9, 200].map(blockOpName), ['flush', 'discard', 'secure_erase', 'write_zeroes', 'other']);
  });

  it('names errors from blk_status_t (request-pointer hooks) and from errno (classic tracepoint)', () => {
    assert.equal(blockErrorType(10, true), 'EIO');
    assert.equal(blockErrorType(1, true), 'EOPNOTSUPP');
    assert.equal(blockErrorType(-5, false), 'EIO');
    assert.equal(blockErrorType(99, true), 'blk_status_99');
  });
});

describe('kernel histograms: temporality', () => {
  const h = (count: number, sum: number, min: number, max: number, counts: number[]) => ({ count, sum, min, max, counts });
  const t0: [number, number] = [100, 0], t1: [number, number] = [101, 0], t2: [number, number] = [102, 0];

  it('cumulative: as read, from the fixed start', () => {
    const t = new HistogramTemporality(false);
    const r = t.next('k', h(3, 30, 5, 15, [1, 2]), t1, t0)!;
    assert.deepEqual([r.h.count, r.start], [3, t0]);
    assert.deepEqual(t.nextCount('c', 9, t2, t0), { value: 9, start: t0 });
  });

  it('delta: differences per interval; min/max only when they moved (then exact), nothing for an idle interval', () => {
    const t = new HistogramTemporality(true);
    assert.equal(t.next('k', h(3, 30, 5, 15, [1, 2]), t1, t0)!.h.count, 3);
    const r = t.next('k', h(5, 60, 5, 20, [1, 4]), t2, t0)!;
    assert.deepEqual(r.start, t1);
    assert.deepEqual([r.h.count, r.h.sum, r.h.counts, r.h.min, r.h.max], [2, 30, [0, 2], undefined, 20]);
    assert.equal(t.next('k', h(5, 60, 5, 20, [1, 4]), [103, 0], t0), undefined);
    assert.deepEqual(t.nextCount('c', 4, t1, t0), { value: 4, start: t0 });
    assert.deepEqual(t.nextCount('c', 10, t2, t0), { value: 6, start: t1 });
  });
});

describe('kernel histograms: per-CPU values', () => {
  it('takes max over CPUs of max and of min_inv (dump() sums them, which is wrong for both)', async () => {
    const { perCpuMinMax } = await import('../../../src/pipeline/kernel-histogram.ts');
    const V = BlockioValue.fields;
    const cpu = (max: number, min: number) => {
      const b = Buffer.alloc(BlockioValue.size);
      b.writeBigUInt64LE(BigInt(max), V.max.offset);
      b.writeBigUInt64LE(min ? ~BigInt(min) & 0xffffffffffffffffn : 0n, V.min_inv.offset);
      return b;
    };
    const h = { count: 3, sum: 0, counts: [], min: 1, max: 1 };
    perCpuMinMax(() => [cpu(500, 200), cpu(0, 0), cpu(900, 300)], Buffer.alloc(16), h, V);
    assert.deepEqual([h.min, h.max], [200, 900]);
  });
});
