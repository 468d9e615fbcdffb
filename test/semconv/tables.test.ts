import assert from 'node:assert/strict';
import { errnoName, errnoNumber, errnoText } from '../../src/semconv/errno.ts';
import { SyscallTable } from '../../src/semconv/syscalls.ts';

describe('semconv: errno and syscall tables', () => {
  it('knows errno names, numbers and texts (Linux generic)', () => {
    assert.equal(errnoName(13), 'EACCES');
    assert.equal(errnoText(13), 'Permission denied');
    assert.equal(errnoNumber('ENOSPC'), 28);
    assert.equal(errnoNumber('EWOULDBLOCK'), 11);
    assert.equal(errnoName(111), 'ECONNREFUSED');
    assert.equal(errnoName(98), 'EADDRINUSE');
    assert.equal(errnoName(4095), 'E4095');
  });

  it('maps x86_64 syscall numbers', () => {
    const t = new SyscallTable('x64');
    assert.equal(t.name(0), 'read');
    assert.equal(t.name(257), 'openat');
    assert.equal(t.name(42), 'connect');
    assert.equal(t.name(435), 'clone3');
    assert.equal(t.number('openat2'), 437);
    assert.equal(t.name(9999), 'syscall_9999');
    assert.throws(() => new SyscallTable('s390x'), /no syscall table for architecture s390x/);
  });
});
