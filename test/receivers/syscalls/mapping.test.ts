// A failed syscall's log record names the request it happened in only when the record stands
// for that single failure: a record covering several may span several requests.
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { failureLogRecord } from '../../../src/receivers/syscalls/mapping.ts';
import type { SyscallFailure } from '../../../src/receivers/syscalls/decode.ts';
import { SyscallArgKind } from '../../../src/receivers/syscalls/syscalls.layout.ts';

const failure: SyscallFailure = {
  tsNs: 1n, tgid: 10, tid: 11, uid: 0, nr: 257, errno: 2, argKind: SyscallArgKind.SYSCALL_ARG_PATH, category: 0,
  cgroupId: 0n, coveredFrom: 0, coveredTo: 1, argValue: 0n, address: undefined, port: 0, comm: 'node', path: '/x',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
};
const record = (f: SyscallFailure, occurrences: number) => failureLogRecord({
  syscall: 'openat', failure: f, occurrences, time: [0, 0], observed: [0, 0], resource: resourceFromAttributes({}),
});

describe('syscalls mapping: request context', () => {
  it('a single failure carries its request trace and span ids', () => {
    const r = record(failure, 1);
    assert.equal(r.spanContext?.traceId, failure.traceId);
    assert.equal(r.spanContext?.spanId, failure.spanId);
    assert.equal(r.attributes['file.path'], '/x');
  });

  it('a record covering several failures carries none', () => {
    assert.equal(record(failure, 3).spanContext, undefined);
  });

  it('a failure outside any request carries none', () => {
    assert.equal(record({ ...failure, traceId: undefined, spanId: undefined }, 1).spanContext, undefined);
  });
});
