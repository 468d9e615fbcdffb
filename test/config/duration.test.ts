import assert from 'node:assert/strict';
import { parseDuration } from '../../src/config/index.ts';

describe('config/duration', () => {
  it('converts Go-style durations to milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('1.1s'), 1100);
    assert.equal(parseDuration('250us'), 0.25);
    assert.equal(parseDuration('0s'), 0);
  });

  it('takes a number, or a numeric string, as milliseconds', () => {
    assert.equal(parseDuration(1500), 1500);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration(' 20ms '), 20);
  });

  it('rejects anything else', () => {
    for (const bad of ['', '10', 'ten seconds', '10 s', '10sec', 's', '-1s', '1d', '5m10', true, null, -1, Number.NaN, {}]) {
      if (bad === '10') continue; // "10" is milliseconds
      assert.equal(parseDuration(bad), undefined, `should reject ${JSON.stringify(bad)}`);
    }
  });
});
