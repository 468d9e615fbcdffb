import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layoutTargets, renderLayout, COMMON_LAYOUT } from '../../scripts/gen-layouts.ts';
import { formatAddress, readCString } from '../../src/bpf/records.ts';
import { decodeSyscallFailure } from '../../src/receivers/syscalls/decode.ts';
import { SyscallEvent } from '../../src/receivers/syscalls/syscalls.layout.ts';

describe('bpf: record layouts', () => {
  it('the TypeScript layouts match the BTF of the compiled objects', () => {
    const targets = layoutTargets();
    assert.ok(targets.length >= 2);
    for (const [header, object, path] of targets) {
      const expected = renderLayout(header, object).replace(/ from the BTF of \S+ /, path === COMMON_LAYOUT ? ' from the BTF of build/bpf/*.bpf.o ' : '$&');
      assert.equal(readFileSync(path, 'utf8'), expected, `${path} drifted from ${header}: run node scripts/gen-layouts.ts`);
    }
  });

  it('decodes a syscall_event written at the generated offsets', () => {
    const F = SyscallEvent.fields;
    const buf = Buffer.alloc(SyscallEvent.size + 8);
    const o = 8;
    buf.writeUInt16LE(1, o);
    buf.writeBigUInt64LE(123456789n, o + 8);
    buf.writeUInt32LE(42, o + F.tgid.offset);
    buf.writeUInt32LE(43, o + F.tid.offset);
    buf.writeUInt32LE(257, o + F.nr.offset);
    buf.writeUInt32LE(13, o + F.err.offset);
    buf.writeUInt16LE(2, o + F.family.offset);
    buf.set([127, 0, 0, 1], o + F.addr.offset);
    buf.writeUInt16LE(8080, o + F.port.offset);
    buf.writeBigUInt64LE(3n, o + F.covered_from.offset);
    buf.writeBigUInt64LE(10n, o + F.covered_to.offset);
    buf.write('curl', o + F.comm.offset);
    buf.write('/etc/shadow', o + F.path.offset);
    const ev = decodeSyscallFailure(buf, o, new DataView(buf.buffer, buf.byteOffset, buf.length));
    assert.deepEqual([ev.tgid, ev.tid, ev.nr, ev.errno, ev.coveredFrom, ev.coveredTo, ev.tsNs], [42, 43, 257, 13, 3, 10, 123456789n]);
    assert.deepEqual([ev.address, ev.port, ev.comm, ev.path], ['127.0.0.1', 8080, 'curl', '/etc/shadow']);
  });

  it('formats addresses and bounded C strings', () => {
    const v6 = Buffer.alloc(16);
    v6[15] = 1;
    assert.equal(formatAddress(10, v6, 0), '::1');
    const mapped = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]);
    assert.equal(formatAddress(10, mapped, 0), '::ffff:10.1.2.3');
    assert.equal(formatAddress(10, Buffer.from('20010db8000000000000000000000001', 'hex'), 0), '2001:db8::1');
    assert.equal(formatAddress(1, v6, 0), undefined);
    assert.equal(readCString(Buffer.from('abcdef'), 1, 3), 'bcd');
  });
});
