import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import {
  PARENT_NONE, PARENT_NOT_SAMPLED, PARENT_SAMPLED, PARENT_UNKNOWN, SAMPLER_NAMES, samplerFromEnv, SpanSampler, type SamplerName,
} from '../../src/pipeline/sampler.ts';
import { load, loadError, minimal } from '../config/helpers.ts';

const view = (id: Buffer) => new DataView(id.buffer, id.byteOffset, id.length);

describe('pipeline: span sampler', () => {
  it('traceidratio keeps exactly the traces the JS SDK\'s TraceIdRatioBasedSampler keeps', () => {
    for (const ratio of [0, 0.001, 0.25, 0.5, 0.999, 1]) {
      const ours = new SpanSampler({ name: 'traceidratio', ratio });
      const sdk = new TraceIdRatioBasedSampler(ratio);
      let kept = 0;
      for (let i = 0; i < 4000; i++) {
        const id = randomBytes(16);
        const want = sdk.shouldSample(context.active(), id.toString('hex')).decision === 2;
        assert.equal(ours.sample(view(id), 0, PARENT_NONE), want, `ratio ${ratio} id ${id.toString('hex')}`);
        if (want) kept++;
      }
      if (ratio === 0.5) assert.ok(kept > 1800 && kept < 2200, `about half kept: ${kept}`);
    }
    assert.equal(new SpanSampler({ name: 'traceidratio', ratio: 1 }).sample(view(Buffer.alloc(16)), 0, PARENT_NONE), true, 'ratio 1 keeps all');
    assert.equal(new SpanSampler({ name: 'traceidratio', ratio: 0.999 }).sample(view(Buffer.alloc(16)), 0, PARENT_NONE), false, 'an invalid (zero) id is not sampled');
  });

  it('always_on / always_off ignore parents; parentbased_* follow a known parent flag, else decide as a root', () => {
    const id = view(Buffer.from('00000000000000000000000000000001', 'hex'));  // bucket 1: kept by any ratio > 1/2^32
    const decide = (name: SamplerName, ratio: number) =>
      [PARENT_NONE, PARENT_SAMPLED, PARENT_NOT_SAMPLED, PARENT_UNKNOWN].map((p) => new SpanSampler({ name, ratio }).sample(id, 0, p as never));
    assert.deepEqual(decide('always_on', 1), [true, true, true, true]);
    assert.deepEqual(decide('always_off', 1), [false, false, false, false]);
    assert.deepEqual(decide('parentbased_always_on', 1), [true, true, false, true]);
    assert.deepEqual(decide('parentbased_always_off', 1), [false, true, false, false]);
    assert.deepEqual(decide('parentbased_traceidratio', 0), [false, true, false, false]);
    assert.deepEqual(decide('parentbased_traceidratio', 0.5), [true, true, false, true]);
    assert.equal(new SpanSampler({ name: 'always_on', ratio: 1 }).keepsAll, true);
    assert.equal(new SpanSampler({ name: 'parentbased_always_on', ratio: 1 }).keepsAll, false);
  });

  it('OTEL_TRACES_SAMPLER / _ARG: every standard name, ratio default 1, bad values name the variable', () => {
    for (const n of SAMPLER_NAMES) assert.deepEqual(samplerFromEnv(n.toUpperCase(), undefined), { name: n, ratio: 1 });
    assert.equal(samplerFromEnv(undefined, '0.5'), undefined);
    assert.deepEqual(samplerFromEnv('traceidratio', '0.25'), { name: 'traceidratio', ratio: 0.25 });
    assert.deepEqual(samplerFromEnv('always_on', 'junk'), { name: 'always_on', ratio: 1 }, 'the argument only matters to ratio samplers');
    assert.deepEqual(samplerFromEnv('jaeger_remote', undefined), { envVar: 'OTEL_TRACES_SAMPLER', message: samplerMessage('jaeger_remote') });
    assert.equal((samplerFromEnv('traceidratio', '2') as { envVar: string }).envVar, 'OTEL_TRACES_SAMPLER_ARG');
  });

  it('config: always_on by default; service.traces beats the environment; bad values are config errors', () => {
    assert.deepEqual(load(minimal()).traces.sampler, { name: 'always_on', ratio: 1 });
    assert.deepEqual(load(minimal(), { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).traces.sampler,
      { name: 'parentbased_traceidratio', ratio: 0.1 });
    const withFile = `${minimal()}  traces: { sampler: traceidratio, sampler_arg: 0.5 }\n`;
    assert.deepEqual(load(withFile, { OTEL_TRACES_SAMPLER: 'always_off' }).traces.sampler, { name: 'traceidratio', ratio: 0.5 });
    assert.deepEqual(load(`${minimal()}  traces: { sampler_arg: 0.2 }\n`, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.9' }).traces.sampler,
      { name: 'traceidratio', ratio: 0.2 });
    assert.match(loadError(minimal(), { OTEL_TRACES_SAMPLER: 'xray' }).message, /OTEL_TRACES_SAMPLER/);
    assert.match(loadError(`${minimal()}  traces: { sampler: sometimes }\n`).message, /service\.traces\.sampler/);
    assert.match(loadError(`${minimal()}  traces: { sampler_arg: 1.5 }\n`).message, /sampler_arg/);
  });
});

function samplerMessage(name: string): string {
  return `"${name}" is not supported by kotel; use one of ${SAMPLER_NAMES.join(', ')}`;
}
