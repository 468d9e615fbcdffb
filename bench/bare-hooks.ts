// The floor under a receiver's overhead: the same BPF objects, the same maps and the same hooks, with
// every program returning at its first instruction. An agent run with these objects
// (KOTEL_BPF_DIR=<dir>) pays what the kernel charges for having a program on each hook (the
// tracepoint's dispatch, the call into the program and its return) and nothing of kotel's own work,
// so "bare / baseline" bounds from above what any program on those hooks can reach on this machine,
// and "agent / bare" is the part kotel's programs and user space take.
// The `clock` kind reads the clock once per run and keeps it (a volatile stack store): the least a
// program that times anything does on each hook. The `discard` kind keeps the programs whole and
// discards every ring-buffer record they reserve: the kernel side alone, with nothing for user space.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
// Program sections of the hooks kotel attaches (uprobes too: a bare TLS hook still costs its trap).
const SECTION = 'SEC\\("(?:tp_btf|raw_tp|raw_tracepoint|tracepoint|uprobe|uretprobe)[^"]*"\\)\\n';
// Written over three lines (section, signature, "{") or as one line after the section ("... { return f(ctx); }").
const BLOCK = new RegExp(`(${SECTION}[^\\n]*\\n\\{\\n)`, 'g');
const ONE_LINE = new RegExp(`(${SECTION}[^\\n{]*\\{) return [^\\n]*\\}`, 'g');

export type BareKind = 'empty' | 'clock' | 'discard';
const BODY: Record<Exclude<BareKind, 'discard'>, string> = {
  empty: 'return 0;',
  clock: '{ volatile __u64 t = bpf_ktime_get_ns(); (void)t; } return 0;',
};

/** What each kind runs, as the benchmarks print it. */
export const BARE_LABEL: Record<BareKind, string> = {
  empty: 'empty programs (the floor of the hooks)',
  clock: 'programs that read the clock once',
  discard: 'whole programs, records discarded in the kernel',
};

/** KOTEL_BENCH_BARE's value as a kind: unset is none, 1 is empty. */
export function bareKindOf(value: string | undefined): BareKind | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  if (value === '1') return 'empty';
  if (value === 'empty' || value === 'clock' || value === 'discard') return value;
  throw new Error(`KOTEL_BENCH_BARE=${value}: use 1 (or empty), clock or discard`);
}

/** One receiver's source with every program's body cut to BODY[kind]; `programs` counts the SEC(...)s it found. */
export function bareSource(text: string, kind: BareKind): { text: string; rewritten: number; programs: number } {
  const programs = (text.match(/^SEC\("(?:tp_btf|raw_tp|raw_tracepoint|tracepoint|uprobe|uretprobe)/gm) ?? []).length;
  if (kind === 'discard') {
    // Same arguments, same reservation; the record is dropped instead of published.
    const out = text.replaceAll('bpf_ringbuf_submit(', 'bpf_ringbuf_discard(');
    return { text: out, rewritten: out.includes('bpf_ringbuf_submit') ? 0 : programs, programs };
  }
  let rewritten = 0;
  const out = text
    .replace(BLOCK, (head) => { rewritten++; return `${head}\t${BODY[kind]}\n`; })
    .replace(ONE_LINE, (_, head) => { rewritten++; return `${head} ${BODY[kind]} }`; });
  return { text: out, rewritten, programs };
}

/** Builds the bare objects into a fresh directory (removed when this process exits) and returns it (for KOTEL_BPF_DIR). */
export function buildBareHooks(kind: BareKind = 'empty'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kotel-bare-hooks-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'bpf'), out = join(dir, 'build');
  cpSync(join(ROOT, 'bpf'), src, { recursive: true });
  for (const receiver of readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'include')) {
    const file = join(src, receiver.name, `${receiver.name}.bpf.c`);
    const bare = bareSource(readFileSync(file, 'utf8'), kind);
    // A program written in another shape would keep its body and make the floor a lie: refuse.
    if (bare.rewritten !== bare.programs) {
      throw new Error(`bare hooks: ${bare.rewritten} of ${bare.programs} programs in ${file} rewritten; write each program as SEC(...), its signature and "{" on three lines, or as one line after its SEC(...)`);
    }
    writeFileSync(file, bare.text);
  }
  // The generated vmlinux.h is reused (the Makefile would dump it again otherwise).
  cpSync(join(ROOT, 'build/bpf/include'), join(out, 'include'), { recursive: true });
  execFileSync('make', ['-s', '-C', src, `OUT=${out}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}
