// Every registered receiver honours the lifecycle contract: shutdown is idempotent and safe
// without start, and its settings schema accepts its own defaults.
import assert from 'node:assert/strict';
import { RECEIVERS } from '../../src/receivers/registry.ts';
import { MonotonicClock } from '../../src/pipeline/clock.ts';
import { ProcessCache } from '../../src/pipeline/processes.ts';
import { SelfTelemetry } from '../../src/pipeline/self-telemetry.ts';
import { Diagnostics } from '../../src/pipeline/diagnostics.ts';
import { emptyResource } from '@opentelemetry/resources';
import { defaultConfig } from '../../src/config/index.ts';
import { receiverTypes } from '../../src/receivers/registry.ts';

describe('receivers: lifecycle contract', () => {
  const config = defaultConfig({ env: {}, receiverTypes: receiverTypes(), availableReceivers: RECEIVERS.map((r) => r.type) });

  for (const factory of RECEIVERS) {
    it(`${factory.type}: shutdown without start, twice, is safe`, async () => {
      const clock = new MonotonicClock();
      const receiver = factory.create({
        id: factory.type, settings: config.receivers[factory.type].settings as never, processes: new ProcessCache(), clock,
        selfTelemetry: new SelfTelemetry(emptyResource(), clock.now()), diag: new Diagnostics('error'), metricsIntervalMs: 1000,
      });
      await receiver.shutdown();
      await receiver.shutdown();
      assert.deepEqual(receiver.collectMetrics?.(clock.now()) ?? [], []);
    });

    it(`${factory.type}: declares signals and a checkable environment`, () => {
      assert.ok(factory.signals.length > 0);
      const items = factory.check(config.receivers[factory.type].settings as never);
      assert.ok(items.length > 0 && items.every((i) => typeof i.ok === 'boolean' && i.what && i.detail));
    });
  }
});
