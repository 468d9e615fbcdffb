// Which failures the syscalls receiver reports, and what each syscall's arguments tell.
// Compiled into the kernel's per-syscall `watch` table.
import { errnoNumber, MAX_ERRNO } from '../../semconv/errno.ts';
import type { SyscallTable } from '../../semconv/syscalls.ts';
import { SyscallArgKind } from './syscalls.layout.ts';

export const CATEGORIES = ['other', 'file', 'network', 'memory', 'process'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface WatchRule {
  syscalls: string[];
  errnos: string[];      // names, or ['*'] for any errno
  category: Category;
}

// The health-observer defaults: failures an operator acts on, not routine noise.
export const DEFAULT_WATCH: WatchRule[] = [
  { syscalls: ['open', 'openat', 'openat2', 'creat'], errnos: ['ENOSPC', 'EMFILE', 'ENFILE', 'EACCES', 'EPERM'], category: 'file' },
  { syscalls: ['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2'], errnos: ['ENOSPC', 'EIO', 'EDQUOT'], category: 'file' },
  // brk reports failure by returning the old break, never a negative value: listed for
  // completeness, it can only fire on kernels that change that.
  { syscalls: ['mmap', 'brk'], errnos: ['ENOMEM'], category: 'memory' },
  { syscalls: ['connect'], errnos: ['ECONNREFUSED', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH'], category: 'network' },
  { syscalls: ['bind'], errnos: ['EADDRINUSE', 'EACCES'], category: 'network' },
  { syscalls: ['fork', 'vfork', 'clone', 'clone3'], errnos: ['EAGAIN', 'ENOMEM'], category: 'process' },
  { syscalls: ['execve', 'execveat'], errnos: ['ENOENT', 'EACCES'], category: 'process' },
];

// Left out of a '*' rule unless include_routine is set: they fire constantly in healthy
// programs (non-blocking I/O, interrupted waits, PATH searches).
export const ROUTINE_ERRNOS = ['EAGAIN', 'EINPROGRESS', 'EINTR', 'ETIMEDOUT', 'ENOENT', 'ERESTARTSYS'];

type ArgSpec = { kind: number; index: number };
const path = (index: number): ArgSpec => ({ kind: SyscallArgKind.SYSCALL_ARG_PATH, index });

// Where the context lives in each syscall's arguments (x86_64 argument order).
export const ARGUMENTS: Record<string, ArgSpec> = {
  open: path(0), creat: path(0), openat: path(1), openat2: path(1),
  execve: path(0), execveat: path(1),
  unlink: path(0), unlinkat: path(1), rmdir: path(0),
  mkdir: path(0), mkdirat: path(1), mknod: path(0), mknodat: path(1),
  rename: path(0), renameat: path(1), renameat2: path(1),
  link: path(0), linkat: path(1), symlink: path(1), symlinkat: path(2),
  truncate: path(0), chdir: path(0), chmod: path(0), fchmodat: path(1), chown: path(0), fchownat: path(1),
  stat: path(0), lstat: path(0), newfstatat: path(1), statx: path(1), access: path(0), faccessat: path(1), faccessat2: path(1),
  connect: { kind: SyscallArgKind.SYSCALL_ARG_PEER_SOCKADDR, index: 1 },
  bind: { kind: SyscallArgKind.SYSCALL_ARG_LOCAL_SOCKADDR, index: 1 },
  mmap: { kind: SyscallArgKind.SYSCALL_ARG_SIZE, index: 1 },
  write: { kind: SyscallArgKind.SYSCALL_ARG_FD, index: 0 },
  pwrite64: { kind: SyscallArgKind.SYSCALL_ARG_FD, index: 0 },
  writev: { kind: SyscallArgKind.SYSCALL_ARG_FD, index: 0 },
  pwritev: { kind: SyscallArgKind.SYSCALL_ARG_FD, index: 0 },
  pwritev2: { kind: SyscallArgKind.SYSCALL_ARG_FD, index: 0 },
};

export interface WatchEntry { nr: number; name: string; errnos: Set<number>; category: Category; arg: ArgSpec | undefined }

export class WatchListError extends Error {}

/** Resolves rules to per-syscall entries; unknown names are errors naming the rule. */
export function compileWatchList(rules: WatchRule[], table: SyscallTable, includeRoutine: boolean): Map<number, WatchEntry> {
  const entries = new Map<number, WatchEntry>();
  const routine = new Set(ROUTINE_ERRNOS.map((n) => errnoNumber(n)).filter((n): n is number => n !== undefined));
  rules.forEach((rule, i) => {
    const errnos = new Set<number>();
    for (const name of rule.errnos) {
      if (name === '*') {
        for (let n = 1; n <= MAX_ERRNO; n++) if (includeRoutine || !routine.has(n)) errnos.add(n);
        continue;
      }
      const n = errnoNumber(name);
      if (n === undefined) throw new WatchListError(`receivers.syscalls.watch[${i}].errnos: unknown errno "${name}" (use names like EACCES, or "*")`);
      errnos.add(n);
    }
    for (const name of rule.syscalls) {
      const nr = table.number(name);
      if (nr === undefined) {
        // Some syscalls do not exist on every architecture (open, fork on arm64): skip quietly
        // for the defaults, fail for a name nobody knows.
        if (DEFAULT_WATCH.some((r) => r.syscalls.includes(name))) continue;
        throw new WatchListError(`receivers.syscalls.watch[${i}].syscalls: unknown syscall "${name}" on ${table.arch}`);
      }
      const existing = entries.get(nr);
      if (existing) {
        for (const e of errnos) existing.errnos.add(e);
      } else {
        entries.set(nr, { nr, name, errnos: new Set(errnos), category: rule.category, arg: ARGUMENTS[name] });
      }
    }
  });
  return entries;
}
