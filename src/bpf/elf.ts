// Which functions an ELF file defines (.dynsym and .symtab), read from its section headers
// without loading the whole file: says up front whether a uprobe on a symbol can attach, and
// names the missing symbol when it cannot (libbpf only reports ENOENT).
import { closeSync, openSync, readSync } from 'node:fs';

const ELF_MAGIC = 0x464c457f;   // "\x7fELF" read little-endian
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
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
  /** Their addresses (st_value). */
  addresses: Map<string, number>;
  /** Bytes at a virtual address, from the loadable segment that holds it (undefined: none does). */
  code(vaddr: number, length: number): Buffer | undefined;
  /** The file offset of a virtual address (what a uprobe by offset takes). */
  fileOffset(vaddr: number): number | undefined;
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
    const addresses = new Map<string, number>();
    for (let i = 0; i < shnum && addresses.size < wanted.length; i++) {
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
          if (strtab.compare(name, 0, name.length, at, end) === 0 && !addresses.has(wanted[k])) {
            addresses.set(wanted[k], Number(syms.readBigUInt64LE(o + 8)));
          }
        }
      }
    }
    // Loadable segments: virtual address → file offset.
    const phoff = Number(eh.readBigUInt64LE(32)), phentsize = eh.readUInt16LE(54), phnum = eh.readUInt16LE(56);
    const segments: Array<{ vaddr: number; offset: number; size: number }> = [];
    if (phoff && phnum && phentsize >= 56) {
      const ph = readAt(fd, phoff, phnum * phentsize);
      for (let i = 0; i < phnum; i++) {
        if (ph.readUInt32LE(i * phentsize) !== PT_LOAD) continue;
        segments.push({
          offset: Number(ph.readBigUInt64LE(i * phentsize + 8)),
          vaddr: Number(ph.readBigUInt64LE(i * phentsize + 16)),
          size: Number(ph.readBigUInt64LE(i * phentsize + 32)),
        });
      }
    }
    const fileOffset = (vaddr: number) => {
      const seg = segments.find((g) => vaddr >= g.vaddr && vaddr < g.vaddr + g.size);
      return seg ? vaddr - seg.vaddr + seg.offset : undefined;
    };
    // Reopens the file: the descriptor of this call is closed when it returns.
    const code = (vaddr: number, length: number) => {
      const off = fileOffset(vaddr);
      if (off === undefined) return undefined;
      try {
        const f = openSync(path, 'r');
        try { return readAt(f, off, length); } finally { closeSync(f); }
      } catch { return undefined; }
    };
    return { machine, found: new Set(addresses.keys()), addresses, code, fileOffset };
  } finally {
    closeSync(fd);
  }
}

const isPush = (b: Buffer) => (b[0] >= 0x50 && b[0] <= 0x57) || (b[0] === 0x41 && b[1] >= 0x50 && b[1] <= 0x57);

/**
 * x86-64: the function a thin wrapper calls first, when the wrapper is exactly
 * `[endbr64] sub $imm8,%rsp; call rel32` and the callee starts with a push. The kernel emulates a
 * push under a uprobe, but single-steps most other first instructions out of line — which costs
 * ~15 µs a hit on some VMs (measured: 1 µs for push, 14–16 µs for `sub` on our Firecracker VM).
 */
export function wrappedCallee(elf: ElfFunctions, wrapper: string): number | undefined {
  const at = elf.addresses.get(wrapper);
  if (elf.machine !== EM_X86_64 || at === undefined) return undefined;
  const c = elf.code(at, 16);
  if (!c) return undefined;
  let i = c[0] === 0xf3 && c[1] === 0x0f && c[2] === 0x1e && c[3] === 0xfa ? 4 : 0;
  if (c[i] !== 0x48 || c[i + 1] !== 0x83 || c[i + 2] !== 0xec) return undefined;
  i += 4;
  if (c[i] !== 0xe8) return undefined;
  const callee = at + i + 5 + c.readInt32LE(i + 1);
  const first = elf.code(callee, 2);
  return first && isPush(first) ? callee : undefined;
}
