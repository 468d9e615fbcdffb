// The http receiver's hook selection: `hooks` picks the capture path, `hook` the program type,
// and `kotel check` reports what this kernel offers for each.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { attachedName, checkHttp, httpVariants } from '../../../src/receivers/http/http.ts';

const kinds = (hooks: Parameters<typeof httpVariants>[0], hook: Parameters<typeof httpVariants>[1]) => httpVariants(hooks, hook).map((v) => v.kind);

describe('http receiver: capture hooks', () => {
  it('auto prefers the sock tracepoints, then the syscall exits (raw_tp, then the classic tracepoint)', () => {
    assert.deepEqual(kinds('auto', 'auto'), ['tp_btf', 'raw_tp', 'tracepoint']);
    assert.deepEqual(kinds('sock', 'auto'), ['tp_btf']);
    assert.deepEqual(kinds('syscalls', 'auto'), ['raw_tp', 'tracepoint']);
    assert.deepEqual(kinds('syscalls', 'tracepoint'), ['tracepoint']);
    assert.deepEqual(kinds('auto', 'raw_tp'), ['raw_tp']);
  });

  it('names the chosen hooks for the ready line', () => {
    assert.equal(attachedName(httpVariants('sock', 'auto')[0]), 'tp_btf/sock_send_length+sock_recv_length');
    assert.equal(attachedName(httpVariants('syscalls', 'auto')[0]), 'raw_tp/sys_exit+inet_sock_set_state');
    assert.equal(attachedName(httpVariants('syscalls', 'tracepoint')[0]), 'tracepoint/sys_exit+inet_sock_set_state');
  });

  it('a program type the chosen hooks do not have fails the check with the fix', () => {
    assert.deepEqual(kinds('syscalls', 'tp_btf'), []);
    const items = checkHttp({ hooks: 'syscalls', hook: 'tp_btf' });
    assert.equal(items.length, 1);
    assert.equal(items[0].ok, false);
    assert.match(items[0].detail ?? '', /hook: tp_btf is not a program type of hooks: syscalls/);
  });

  it('kotel check lists each variant of auto with what it attaches to (this kernel has them all)', function () {
    if (process.getuid?.() !== 0 || !existsSync('/sys/kernel/btf/vmlinux')) this.skip();
    const hooks = checkHttp({ tls: { enabled: false, discover: false, binaries: [], max_connections: 4096 } }).filter((i) => i.what.startsWith('hook '));
    assert.deepEqual(hooks.map((i) => [i.what, i.ok]), [
      ['hook tp_btf sock:sock_send_length/sock_recv_length', true],
      ['hook raw_tp raw_syscalls/sys_exit + sock:inet_sock_set_state', true],
      ['hook tracepoint raw_syscalls/sys_exit + sock:inet_sock_set_state', true],
    ]);
  });
});
