import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elfFunctions, EM_X86_64 } from '../../src/bpf/elf.ts';

interface Sym { name: string; type: number; shndx: number }

/** A minimal 64-bit little-endian ELF: a string table and a symbol table of type `symType`. */
function elf(syms: Sym[], symType = 11, machine = EM_X86_64): Buffer {
  const names = Buffer.concat([Buffer.from([0]), ...syms.map((s) => Buffer.from(`${s.name}\0`, 'latin1'))]);
  const table = Buffer.alloc(24 * (syms.length + 1));
  let at = 1;
  syms.forEach((s, i) => {
    const o = 24 * (i + 1);
    table.writeUInt32LE(at, o);
    table[o + 4] = (1 << 4) | s.type;       // STB_GLOBAL
    table.writeUInt16LE(s.shndx, o + 6);
    at += s.name.length + 1;
  });
  const strOff = 64, symOff = strOff + names.length, shOff = symOff + table.length;
  const h = Buffer.alloc(64);
  h.writeUInt32LE(0x464c457f, 0);
  h[4] = 2; h[5] = 1; h[6] = 1;
  h.writeUInt16LE(3, 16);
  h.writeUInt16LE(machine, 18);
  h.writeBigUInt64LE(BigInt(shOff), 40);
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(64, 58);
  h.writeUInt16LE(3, 60);
  const sh = Buffer.alloc(3 * 64);
  const section = (i: number, type: number, off: number, size: number, link: number) => {
    sh.writeUInt32LE(type, i * 64 + 4);
    sh.writeBigUInt64LE(BigInt(off), i * 64 + 24);
    sh.writeBigUInt64LE(BigInt(size), i * 64 + 32);
    sh.writeUInt32LE(link, i * 64 + 40);
  };
  section(1, 3, strOff, names.length, 0);
  section(2, symType, symOff, table.length, 1);
  return Buffer.concat([h, names, table, sh]);
}

function file(buf: Buffer): string {
  const p = join(mkdtempSync(join(tmpdir(), 'kotel-elf-')), 'bin');
  writeFileSync(p, buf);
  return p;
}

const WANTED = ['SSL_read', 'SSL_write', 'SSL_read_ex', 'SSL_free', 'SSL_shutdown'];

describe('bpf/elf: defined functions', () => {
  it('finds defined functions, versioned names included; undefined symbols and objects do not count', () => {
    const p = file(elf([
      { name: 'SSL_read', type: 2, shndx: 12 },
      { name: 'SSL_write@@OPENSSL_3.0.0', type: 2, shndx: 12 },
      { name: 'SSL_read_extra', type: 2, shndx: 12 },     // a longer name is not SSL_read_ex
      { name: 'SSL_free', type: 2, shndx: 0 },            // imported, not defined here
      { name: 'SSL_shutdown', type: 1, shndx: 12 },       // an object, not a function
    ]));
    const r = elfFunctions(p, WANTED);
    assert.equal(r.machine, EM_X86_64);
    assert.deepEqual([...r.found].sort(), ['SSL_read', 'SSL_write']);
  });

  it('reads .symtab as well as .dynsym', () => {
    assert.deepEqual([...elfFunctions(file(elf([{ name: 'SSL_free', type: 2, shndx: 3 }], 2)), WANTED).found], ['SSL_free']);
  });

  it('rejects what is not a 64-bit little-endian ELF file', () => {
    assert.throws(() => elfFunctions(file(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80))), WANTED), /not an ELF file/);
    const e32 = elf([]);
    e32[4] = 1;
    assert.throws(() => elfFunctions(file(e32), WANTED), /not a 64-bit/);
  });

  it('the system libssl.so.3 defines the probed functions', function () {
    const lib = ['/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib64/libssl.so.3'].find(existsSync);
    if (!lib) this.skip();
    assert.deepEqual([...elfFunctions(lib, WANTED).found].sort(), ['SSL_free', 'SSL_read', 'SSL_read_ex', 'SSL_shutdown', 'SSL_write']);
  });
});
