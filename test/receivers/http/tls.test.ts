import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mappedLibssl, multiLinks, parseLdconfig, resolveTlsTargets, tlsCandidates, type TlsProbe } from '../../../src/receivers/http/tls.ts';
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

  it('every probe has its file offset: a symbol\'s is where readelf puts it (uprobe_multi links take offsets)', function () {
    const lib = ['/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib64/libssl.so.3'].find(existsSync);
    if (!lib) this.skip();
    const [t] = resolveTlsTargets([{ path: lib, source: 'config' }]).targets;
    // In libssl the code segment's file offset equals its address: the symbol's value is its offset.
    const syms = execFileSync('readelf', ['-W', '--dyn-syms', lib], { encoding: 'utf8' });
    const value = (name: string) => parseInt(new RegExp(`\\s([0-9a-f]{16})\\s.*\\s${name}@@`).exec(syms)![1], 16);
    const bySymbol = Object.fromEntries(t.probes.filter((p) => p.symbol).map((p) => [p.symbol!, p.fileOffset]));
    assert.deepEqual(bySymbol, { SSL_shutdown: value('SSL_shutdown'), SSL_free: value('SSL_free') });
    for (const p of t.probes.filter((x) => x.symbol === undefined)) assert.equal(p.fileOffset, p.offset);
  });

  it('uprobe_multi: one link per program, the return link first, offsets once each, probes without one left out', () => {
    const probe = (label: string, program: string, ret: boolean, fileOffset?: number, dir?: 'read' | 'write'): TlsProbe => ({ label, program, ret, fileOffset, dir });
    const links = multiLinks([
      probe('SSL_read', 'ssl_read_enter', true, 0x100, 'read'),
      probe('SSL_read_ex', 'ssl_read_ex_enter', true, 0x200, 'read'),
      probe('SSL_write', 'ssl_write_enter', true, 0x300, 'write'),
      probe('SSL_shutdown', 'ssl_free_enter', false, 0x400),
      probe('SSL_free', 'ssl_free_enter', false, 0x500),
      probe('SSL_free again', 'ssl_free_enter', false, 0x500),
      probe('lost', 'ssl_write_ex_enter', true, undefined, 'write'),
    ]);
    assert.deepEqual(links.map((l) => [l.program, l.retprobe, l.offsets, l.probes.map((p) => p.label)]), [
      ['ssl_return', true, [0x100, 0x200, 0x300], []],
      ['ssl_read_enter', false, [0x100], ['SSL_read']],
      ['ssl_read_ex_enter', false, [0x200], ['SSL_read_ex']],
      ['ssl_write_enter', false, [0x300], ['SSL_write']],
      ['ssl_free_enter', false, [0x400, 0x500], ['SSL_shutdown', 'SSL_free', 'SSL_free again']],
    ]);
    assert.deepEqual(multiLinks([probe('SSL_free', 'ssl_free_enter', false, 0x500)]).map((l) => l.program), ['ssl_free_enter'], 'no return link without a return probe');
  });

  it('settings: on by default with discovery; off means no candidates; configured files come first', () => {
    const s = withDefaults({}).tls;
    assert.deepEqual(s, { enabled: true, discover: true, binaries: [], max_connections: 4096 });
    assert.deepEqual(tlsCandidates({ ...s, enabled: false, binaries: ['/x'] }), []);
    assert.deepEqual(tlsCandidates({ ...s, discover: false, binaries: ['/x', '/y'] }), [{ path: '/x', source: 'config' }, { path: '/y', source: 'config' }]);
    assert.equal(tlsCandidates({ ...s, binaries: ['/x'] })[0].path, '/x');
  });
});
