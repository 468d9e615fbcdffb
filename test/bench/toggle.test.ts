// bench/toggle.ts: windows alternate off/on, each "on" window is set against the two "off" windows
// around it, and the programs are detached between "on" windows and at the end.
import { strict as assert } from 'node:assert';
import { alternate, summary, type ToggleTarget } from '../../bench/toggle.ts';

/** A workload whose rate drops to `onRate` while the fake programs are attached, counted exactly over time. */
function fakeWorkload(offRate: number, onRate: number) {
  let attached = false, ops = 0, since = performance.now();
  const settle = () => { const now = performance.now(); ops += ((now - since) / 1000) * (attached ? onRate : offRate); since = now; };
  const calls: string[] = [];
  const object = {
    attach(p: string) { settle(); attached = true; calls.push(`+${p}`); },
    detach(p: string) { settle(); attached = false; calls.push(`-${p}`); return 1; },
  };
  const target = { object, programs: ['a'] } as unknown as ToggleTarget;
  return { target, calls, count: () => { settle(); return ops; }, attached: () => attached };
}

describe('bench: toggle windows', () => {
  it('reads the slowdown of the "on" windows against their neighbours', async () => {
    const w = fakeWorkload(1000, 900);
    const res = await alternate({ targets: [w.target], windows: 5, windowMs: 40, count: w.count });
    assert.equal(res.off.length, 3);
    assert.equal(res.on.length, 2);
    for (const r of res.ratios) assert.ok(Math.abs(r - 0.9) < 0.01, `ratio ${r}`);
    assert.deepEqual(w.calls, ['-a', '+a', '-a', '+a', '-a']);
    assert.equal(w.attached(), false);
  });

  it('refuses an even number of windows', async () => {
    await assert.rejects(alternate({ targets: [], windows: 4, windowMs: 1, count: () => 0 }), /odd/);
  });

  it('summarises ratios by median and quartiles', () => {
    assert.deepEqual(summary([0.9, 1.0, 0.8, 0.95, 0.85]), { median: 0.9, q1: 0.85, q3: 0.95 });
  });
});
