// Syscall numbers ↔ names for the architectures kotel's BPF programs are built for.
import { SYSCALL_ROWS_X86_64 } from './syscalls-x86_64.generated.ts';

const tables: Record<string, ReadonlyArray<readonly [number, string]>> = { x64: SYSCALL_ROWS_X86_64 };

export class SyscallTable {
  readonly arch: string;
  private readonly names = new Map<number, string>();
  private readonly numbers = new Map<string, number>();

  constructor(arch: string = process.arch) {
    const rows = tables[arch];
    if (!rows) throw new Error(`no syscall table for architecture ${arch}; kotel supports: ${Object.keys(tables).join(', ')}`);
    this.arch = arch;
    for (const [nr, name] of rows) {
      this.names.set(nr, name);
      this.numbers.set(name, nr);
    }
  }

  name(nr: number): string {
    return this.names.get(nr) ?? `syscall_${nr}`;
  }

  number(name: string): number | undefined {
    return this.numbers.get(name);
  }

  allNames(): string[] {
    return [...this.numbers.keys()];
  }
}
