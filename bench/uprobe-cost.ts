// Cost of one uprobe hit on this machine, by the probed function's first instruction: a push
// (emulated by the kernel) or a `sub $imm,%rsp` (single-stepped out of line, as at the start of
// Debian libssl's SSL_read/SSL_write). A C loop calls a function 200,000 times; the http
// object's ssl_free_enter (entry) and ssl_return (return) programs are attached to it.
// The same through uprobe_multi links (Linux 6.6+), which kotel uses where the kernel has them.
// Run: node bench/uprobe-cost.ts   (needs clang; prints ns per call)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfObject } from '../native/index.ts';
import { elfFunctions } from '../src/bpf/elf.ts';
import { uprobeMultiType } from '../src/receivers/http/tls.ts';
import { objectPath } from '../src/bpf/loader.ts';
import { table, machine } from './lib.ts';

const CALLS = 200_000;
const SOURCE = `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
__attribute__((noinline)) int probed(void *p) { __asm__ volatile("" ::: "memory"); return p != 0; }
int main(int argc, char **argv) {
  long n = atol(argv[1]); struct timespec a, b; int s = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) s += probed((void *)i);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n + 0 * s);
  return 0;
}
`;
const dir = mkdtempSync(join(tmpdir(), 'kotel-uprobe-'));
writeFileSync(join(dir, 'loop.c'), SOURCE);
// -fno-omit-frame-pointer: `push %rbp` first; -O2 alone: the body's first instruction (xor/test, stepped).
const bins = { push: join(dir, 'push'), stepped: join(dir, 'stepped') };
execFileSync('clang', ['-O2', '-fno-omit-frame-pointer', '-o', bins.push, join(dir, 'loop.c')]);
execFileSync('clang', ['-O2', '-o', bins.stepped, join(dir, 'loop.c')]);
const run = (bin: string) => Number(execFileSync(bin, [String(CALLS)], { encoding: 'utf8' }).trim());

const rows: string[][] = [];
for (const [kind, bin] of Object.entries(bins)) {
  const first = execFileSync('objdump', ['-d', '--no-show-raw-insn', bin], { encoding: 'utf8' }).split('<probed>:\n')[1].split('\n')[0].trim().replace(/^\w+:\s*/, '');
  const o = new BpfObject(objectPath('http.bpf.o'));
  o.load();
  const none = run(bin);
  o.attachUprobe('ssl_free_enter', { binaryPath: bin, funcName: 'probed' });
  const entry = run(bin);
  o.attachUprobe('ssl_return', { binaryPath: bin, funcName: 'probed', retprobe: true });
  const both = run(bin);
  o.close();
  const multi = uprobeMultiType();
  let multiEntry = '—', multiBoth = '—';
  if (multi !== undefined) {
    const elf = elfFunctions(bin, ['probed']);
    const offset = elf.fileOffset(elf.addresses.get('probed')!)!;
    const m = new BpfObject(objectPath('http.bpf.o'));
    for (const p of ['ssl_free_enter', 'ssl_return']) m.setExpectedAttachType(p, multi);
    m.load();
    m.attachUprobeMulti('ssl_free_enter', { binaryPath: bin, offsets: [offset] });
    multiEntry = run(bin).toFixed(0);
    m.attachUprobeMulti('ssl_return', { binaryPath: bin, offsets: [offset], retprobe: true });
    multiBoth = run(bin).toFixed(0);
    m.close();
  }
  rows.push([`${kind} (${first})`, none.toFixed(1), entry.toFixed(0), both.toFixed(0), multiEntry, multiBoth]);
}
table(`uprobe cost per call, ${CALLS} calls (${machine()})`, ['first instruction', 'no probe ns', 'uprobe ns', 'uprobe + uretprobe ns', 'uprobe_multi ns', 'uprobe_multi + return ns'], rows);
