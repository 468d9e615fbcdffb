// The agent's heap headroom: the growing factor asked of V8 for a given live heap, and its setting.
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/index.ts';
import { DEFAULT_HEADROOM_MB, growingPercent, headroomFromEnv } from '../../src/cli/heap-headroom.ts';

const MB = 1024 * 1024;

describe('heap headroom', () => {
  it('asks for the factor that leaves the headroom and the young generation above the old one, in steps of 25 %', () => {
    assert.equal(growingPercent(18 * MB, 0, 48), 275);          // 48/18 = 2.67 → 275 %
    assert.equal(growingPercent(18 * MB, 16 * MB, 48), 375);    // marking starts when the room left is the young generation's
    assert.equal(growingPercent(64 * MB, 16 * MB, 48), 100);
  });

  it('bounds the factor for a tiny heap and leaves a large one to V8', () => {
    assert.equal(growingPercent(2 * MB, 16 * MB, 48), 1000);
    assert.equal(growingPercent(200 * MB, 16 * MB, 48), 0, '(48 + 16) / 200: less than V8 may choose itself');
    assert.equal(growingPercent(18 * MB, 16 * MB, 0), 0, 'headroom 0: V8 decides');
  });

  it('reads the headroom from KOTEL_HEAP_HEADROOM_MB and rejects what is not a whole number of MiB', () => {
    assert.equal(headroomFromEnv({}), DEFAULT_HEADROOM_MB);
    assert.equal(headroomFromEnv({ KOTEL_HEAP_HEADROOM_MB: ' 96 ' }), 96);
    assert.equal(headroomFromEnv({ KOTEL_HEAP_HEADROOM_MB: '0' }), 0);
    for (const bad of ['-1', '1.5', 'lots']) {
      assert.throws(() => headroomFromEnv({ KOTEL_HEAP_HEADROOM_MB: bad }),
        (e: unknown) => e instanceof ConfigError && /KOTEL_HEAP_HEADROOM_MB: must be a whole number of MiB/.test(e.message), bad);
    }
  });
});
