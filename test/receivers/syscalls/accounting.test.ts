import assert from 'node:assert/strict';
import { FailureAccounting } from '../../../src/receivers/syscalls/accounting.ts';

describe('syscalls: failure accounting', () => {
  it('counts each kernel range once, folding what the rate limit held back', () => {
    const a = new FailureAccounting();
    assert.equal(a.onRecord('k', 0, 1), 1);
    assert.equal(a.onRecord('k', 1, 2), 1);
    // 98 failures held back, then the next window's first record covers them.
    assert.equal(a.onRecord('k', 2, 100), 98);
    // End of burst: 20 more counted in the kernel, none sent. Not quiet at first sweep.
    assert.equal(a.sweep('k', 120, 100, false), 0);
    assert.equal(a.sweep('k', 120, 100, false), 20);
    assert.equal(a.sweep('k', 120, 100, false), 0);
  });

  it('never folds while a kernel record is in flight', () => {
    const a = new FailureAccounting();
    a.onRecord('k', 0, 5);
    a.sweep('k', 9, 8, false);
    assert.equal(a.sweep('k', 9, 8, false), 0, 'record (5,8] not received yet');
    assert.equal(a.onRecord('k', 5, 8), 3);
    assert.equal(a.sweep('k', 9, 8, false), 1);
  });

  it('a record arriving after a fold reports only what the fold did not', () => {
    const a = new FailureAccounting();
    assert.equal(a.sweep('k', 10, 0, true), 10);
    assert.equal(a.onRecord('k', 0, 12), 2);
    assert.equal(a.onRecord('k', 0, 10), 0);
    assert.equal(a.duplicates, 1);
  });

  it('sum of occurrences equals the kernel total for any interleaving', () => {
    const a = new FailureAccounting();
    let total = 0, emitted = 0, reported = 0;
    const inFlight: Array<[number, number]> = [];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let step = 0; step < 5000; step++) {
      const r = rnd();
      if (r < 0.5) total++;
      else if (r < 0.7 && total > emitted) { inFlight.push([emitted, total]); emitted = total; }
      else if (r < 0.85 && inFlight.length) { const [f, t] = inFlight.shift()!; reported += a.onRecord('k', f, t); }
      else reported += a.sweep('k', total, emitted, false);
    }
    for (const [f, t] of inFlight) reported += a.onRecord('k', f, t);
    reported += a.sweep('k', total, emitted, true);
    assert.equal(reported, total);
  });

  it('retires keys of exited processes only once fully reported', () => {
    const a = new FailureAccounting();
    a.onRecord('k', 0, 3);
    a.sweep('k', 3, 3, false);
    assert.equal(a.retire('k', true, 2), false);
    assert.equal(a.retire('k', false, 2), false);
    assert.equal(a.retire('k', false, 2), true);
    assert.equal(a.size, 0);
  });

  it('reports again what the export queue refused, in the next fold', () => {
    const a = new FailureAccounting();
    assert.equal(a.onRecord('k', 0, 10), 10);
    a.refuse('k', 10);
    assert.equal(a.retire('k', false, 1), false, 'owed occurrences keep the key');
    assert.equal(a.sweep('k', 12, 10, false), 0, 'not quiet yet');
    assert.equal(a.sweep('k', 12, 10, false), 12, '2 unsent + 10 refused');
    a.refuse('k', 12);
    assert.equal(a.sweep('k', 12, 10, true), 12, 'the final fold too');
  });
});
