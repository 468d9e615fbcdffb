import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mappedLibssl, parseLdconfig, resolveTlsTargets, tlsCandidates } from '../../../src/receivers/http/tls.ts';
import { withDefaults } from '../../../src/receivers/http/settings.ts';

describe('receivers/http: TLS targets', () => {
  it('parses libssl paths from ldconfig -p', () => {
    const text = `1234 libs found in cache \`/etc/ld.so.cache'
\tlibssl3.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl3.so
\tlibssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3
\tlibssl.so.1.1 (libc6,x86-64) => /usr/lib/libssl.so.1.1
\tlibssl.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so
`;
    assert.deepEqual(parseLdconfig(text), ['/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/libssl.so.1.1']);
  });

  it('finds the libssl a process maps, once, and not a deleted one', () => {
    const maps = `55d0 r--p 00000000 fe:00 1 /usr/sbin/nginx
7f00 r--p 00000000 fe:00 2 /usr/lib/x86_64-linux-gnu/libssl.so.3
7f01 r-xp 00020000 fe:00 2 /usr/lib/x86_64-linux-gnu/libssl.so.3
7f02 r-xp 00020000 fe:00 3 /opt/old/libssl.so.3 (deleted)
7f03 rw-p 00000000 00:00 0 [heap]
`;
    assert.deepEqual(mappedLibssl(maps), ['/usr/lib/x86_64-linux-gnu/libssl.so.3']);
  });

  it('one target per file (a symlink is the same file); a file without OpenSSL or a missing one says why', function () {
    const lib = ['/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib64/libssl.so.3'].find(existsSync);
    if (!lib) this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'kotel-tls-'));
    copyFileSync(lib, join(dir, 'node'));
    symlinkSync(join(dir, 'node'), join(dir, 'node-link'));
    writeFileSync(join(dir, 'script'), '#!/bin/sh\n'.padEnd(100));
    const { targets, rejected } = resolveTlsTargets([
      { path: join(dir, 'node'), source: 'config' },
      { path: join(dir, 'node-link'), source: 'node' },
      { path: join(dir, 'script'), source: 'config' },
      { path: join(dir, 'missing'), source: 'config' },
    ]);
    assert.deepEqual(targets.map((t) => t.path), [join(dir, 'node')]);
    // Debian's libssl: SSL_read_ex/SSL_write_ex wrap the internal functions, probed by offset.
    assert.deepEqual(targets[0].probes.map((p) => [p.label, p.program, p.ret, p.symbol === undefined && p.offset! > 0]), [
      ['ssl_read_internal (SSL_read, SSL_read_ex)', 'ssl_read_ex_enter', true, true],
      ['ssl_write_internal (SSL_write, SSL_write_ex)', 'ssl_write_ex_enter', true, true],
      ['SSL_shutdown', 'ssl_free_enter', false, false],
      ['SSL_free', 'ssl_free_enter', false, false],
    ]);
    assert.deepEqual(rejected.map((r) => [r.path, r.reason]), [
      [join(dir, 'script'), 'not an ELF file'],
      [join(dir, 'missing'), 'cannot be read (ENOENT)'],
    ]);
  });

  it('node (OpenSSL inside, SSL_read starting with a push): the exported functions themselves', () => {
    const [t] = resolveTlsTargets([{ path: process.execPath, source: 'config' }]).targets;
    assert.deepEqual(t.probes.map((p) => [p.label, p.program, p.symbol]), [
      ['SSL_read', 'ssl_read_enter', 'SSL_read'], ['SSL_read_ex', 'ssl_read_ex_enter', 'SSL_read_ex'],
      ['SSL_write', 'ssl_write_enter', 'SSL_write'], ['SSL_write_ex', 'ssl_write_ex_enter', 'SSL_write_ex'],
      ['SSL_shutdown', 'ssl_free_enter', 'SSL_shutdown'], ['SSL_free', 'ssl_free_enter', 'SSL_free'],
    ]);
  });

  it('settings: on by default with discovery; off means no candidates; configured files come first', () => {
    const s = withDefaults({}).tls;
    assert.deepEqual(s, { enabled: true, discover: true, binaries: [], max_connections: 4096 });
    assert.deepEqual(tlsCandidates({ ...s, enabled: false, binaries: ['/x'] }), []);
    assert.deepEqual(tlsCandidates({ ...s, discover: false, binaries: ['/x', '/y'] }), [{ path: '/x', source: 'config' }, { path: '/y', source: 'config' }]);
    assert.equal(tlsCandidates({ ...s, binaries: ['/x'] })[0].path, '/x');
  });
});
