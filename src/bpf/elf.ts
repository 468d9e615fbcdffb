// Which functions an ELF file defines (.dynsym and .symtab), read from its section headers
// without loading the whole file: says up front whether a uprobe on a symbol can attach, and
// names the missing symbol when it cannot (libbpf only reports ENOENT).
import { closeSync, openSync, readSync } from 'node:fs';

const ELF_MAGIC = 0x464c457f;   // "\x7fELF" read little-endian
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SYM_SIZE = 24;
const MAX_TABLE = 256 << 20;    // a symbol or string table larger than this is not a real one

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export interface ElfFunctions {
  machine: number;
  /** The wanted names this file defines as functions (versioned names count: SSL_read@@OPENSSL_3.0.0). */
  found: Set<string>;
}

export class ElfError extends Error {}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) throw new ElfError(`truncated at ${offset + done}`);
    done += n;
  }
  return buf;
}

/** The host's ELF machine, for rejecting binaries of another architecture. */
export function hostMachine(): number | undefined {
  return process.arch === 'x64' ? EM_X86_64 : process.arch === 'arm64' ? EM_AARCH64 : undefined;
}

/** Looks up `wanted` among the functions a 64-bit little-endian ELF file defines. */
export function elfFunctions(path: string, wanted: readonly string[]): ElfFunctions {
  const fd = openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 64);
    if (eh.readUInt32LE(0) !== ELF_MAGIC) throw new ElfError('not an ELF file');
    if (eh[4] !== 2 || eh[5] !== 1) throw new ElfError('not a 64-bit little-endian ELF file');
    const machine = eh.readUInt16LE(18);
    const shoff = Number(eh.readBigUInt64LE(40));
    const shentsize = eh.readUInt16LE(58), shnum = eh.readUInt16LE(60);
    if (shoff === 0 || shnum === 0 || shentsize < 64) throw new ElfError('no section headers');
    const sh = readAt(fd, shoff, shnum * shentsize);
    const section = (i: number) => ({
      type: sh.readUInt32LE(i * shentsize + 4),
      offset: Number(sh.readBigUInt64LE(i * shentsize + 24)),
      size: Number(sh.readBigUInt64LE(i * shentsize + 32)),
      link: sh.readUInt32LE(i * shentsize + 40),
    });
    const names = wanted.map((w) => Buffer.from(w, 'latin1'));
    const found = new Set<string>();
    for (let i = 0; i < shnum && found.size < wanted.length; i++) {
      const s = section(i);
      if ((s.type !== SHT_DYNSYM && s.type !== SHT_SYMTAB) || s.link >= shnum) continue;
      const str = section(s.link);
      if (s.size > MAX_TABLE || str.size > MAX_TABLE) continue;
      const syms = readAt(fd, s.offset, s.size), strtab = readAt(fd, str.offset, str.size);
      for (let o = 0; o + SYM_SIZE <= syms.length; o += SYM_SIZE) {
        const type = syms[o + 4] & 0xf;
        if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || syms.readUInt16LE(o + 6) === 0) continue;
        const at = syms.readUInt32LE(o);
        for (const [k, name] of names.entries()) {
          const end = at + name.length;
          if (end >= strtab.length || (strtab[end] !== 0 && strtab[end] !== 0x40 /* @ */)) continue;
          if (strtab.compare(name, 0, name.length, at, end) === 0) found.add(wanted[k]);
        }
      }
    }
    return { machine, found };
  } finally {
    closeSync(fd);
  }
}
