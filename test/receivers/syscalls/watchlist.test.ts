import assert from 'node:assert/strict';
import { SyscallTable } from '../../../src/semconv/syscalls.ts';
import { errnoNumber } from '../../../src/semconv/errno.ts';
import { compileWatchList, DEFAULT_WATCH, WatchListError } from '../../../src/receivers/syscalls/watchlist.ts';
import { SyscallArgKind } from '../../../src/receivers/syscalls/syscalls.layout.ts';
import { severityOf } from '../../../src/receivers/syscalls/severity.ts';

const table = new SyscallTable('x64');

describe('syscalls: watch list', () => {
  it('compiles the default list with categories, errnos and argument capture', () => {
    const w = compileWatchList(DEFAULT_WATCH, table, false);
    const openat = w.get(table.number('openat')!)!;
    assert.equal(openat.category, 'file');
    assert.deepEqual([...openat.errnos].sort((a, b) => a - b), ['EPERM', 'EACCES', 'ENFILE', 'EMFILE', 'ENOSPC'].map((n) => errnoNumber(n)!).sort((a, b) => a - b));
    assert.deepEqual(openat.arg, { kind: SyscallArgKind.SYSCALL_ARG_PATH, index: 1 });
    assert.equal(w.get(table.number('connect')!)!.arg!.kind, SyscallArgKind.SYSCALL_ARG_PEER_SOCKADDR);
    assert.equal(w.get(table.number('bind')!)!.arg!.kind, SyscallArgKind.SYSCALL_ARG_LOCAL_SOCKADDR);
    assert.equal(w.get(table.number('mmap')!)!.arg!.kind, SyscallArgKind.SYSCALL_ARG_SIZE);
    assert.equal(w.get(table.number('clone3')!)!.category, 'process');
    assert.ok(!w.has(table.number('read')!), 'read is not watched by default');
  });

  it('leaves routine errnos out of "*" unless asked', () => {
    const rule = [{ syscalls: ['read'], errnos: ['*'], category: 'file' as const }];
    const quiet = compileWatchList(rule, table, false).get(table.number('read')!)!;
    assert.ok(!quiet.errnos.has(errnoNumber('EAGAIN')!));
    assert.ok(!quiet.errnos.has(errnoNumber('EINTR')!));
    assert.ok(quiet.errnos.has(errnoNumber('EIO')!));
    const all = compileWatchList(rule, table, true).get(table.number('read')!)!;
    assert.ok(all.errnos.has(errnoNumber('EAGAIN')!));
  });

  it('names the rule and the bad value', () => {
    assert.throws(() => compileWatchList([{ syscalls: ['opne'], errnos: ['EACCES'], category: 'file' }], table, false),
      (e: Error) => e instanceof WatchListError && /watch\[0\]\.syscalls: unknown syscall "opne"/.test(e.message));
    assert.throws(() => compileWatchList([{ syscalls: ['open'], errnos: ['EACESS'], category: 'file' }], table, false),
      /watch\[0\]\.errnos: unknown errno "EACESS"/);
  });
});

describe('syscalls: severity', () => {
  it('maps errno classes to severities', () => {
    assert.equal(severityOf('ENOSPC', 'file').text, 'ERROR');
    assert.equal(severityOf('EMFILE', 'file').text, 'ERROR');
    assert.equal(severityOf('ENOMEM', 'memory').text, 'ERROR');
    assert.equal(severityOf('EACCES', 'file').text, 'WARN');
    assert.equal(severityOf('ECONNREFUSED', 'network').text, 'WARN');
    assert.equal(severityOf('EADDRINUSE', 'network').text, 'WARN');
    assert.equal(severityOf('EAGAIN', 'process').text, 'WARN');
    assert.equal(severityOf('EAGAIN', 'file').text, 'INFO');
    assert.equal(severityOf('ENOENT', 'process').text, 'INFO');
    assert.equal(severityOf('ENOSPC', 'file').number, 17);
    assert.equal(severityOf('EACCES', 'file').number, 13);
    assert.equal(severityOf('ENOENT', 'file').number, 9);
  });
});
