import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderOpcodes, OPCODES_FILE } from '../../../scripts/gen-iouring-opcodes.ts';
import { ioUringOpcodeName } from '../../../src/semconv/io-uring.ts';
import { IouringKey, IouringValue } from '../../../src/receivers/iouring/iouring.layout.ts';
import { decodeUringSeries } from '../../../src/receivers/iouring/iouring.ts';
import { layoutFromSettings } from '../../../src/pipeline/kernel-histogram.ts';

describe('iouring: opcode table and series decoding', () => {
  it('the opcode table matches the kernel BTF enum io_uring_op compiled into iouring.bpf.o', () => {
    assert.equal(readFileSync(OPCODES_FILE, 'utf8'), renderOpcodes(), 'run node scripts/gen-iouring-opcodes.ts');
  });

  it('names opcodes; unknown ones print as op_<n>', () => {
    assert.equal(ioUringOpcodeName(0), 'nop');
    assert.equal(ioUringOpcodeName(22), 'read');
    assert.equal(ioUringOpcodeName(23), 'write');
    assert.equal(ioUringOpcodeName(250), 'op_250');
  });

  it('decodes (tgid, opcode) series with comm and io-wq punts', () => {
    const layout = layoutFromSettings({});
    const key = Buffer.alloc(IouringKey.size), value = Buffer.alloc(IouringValue.size);
    key.writeUInt32LE(1234, IouringKey.fields.tgid.offset);
    key.writeUInt32LE(22, IouringKey.fields.opcode.offset);
    value.writeBigUInt64LE(2n, IouringValue.fields.count.offset);
    value.writeBigUInt64LE(7n, IouringValue.fields.async_work.offset);
    value.write('fio', IouringValue.fields.comm.offset);
    const [s] = decodeUringSeries(key, value, 1, layout);
    assert.deepEqual([s.tgid, s.opcode, s.asyncWork, s.comm, s.hist.count], [1234, 22, 7, 'fio', 2]);
  });
});
