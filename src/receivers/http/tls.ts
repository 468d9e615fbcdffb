// HTTPS capture: which files carry OpenSSL's SSL_read/SSL_write (libssl, and binaries that link
// OpenSSL statically such as node), and the uprobes on them. The kernel side pairs the plaintext
// exactly like socket data (http.bpf.c, ssl_* programs).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { btfEnumValue, type BpfObject } from '../../../native/index.ts';
import { elfFunctions, hostMachine, wrappedCallee, type ElfFunctions } from '../../bpf/elf.ts';
import type { Diagnostics } from '../../pipeline/diagnostics.ts';
import type { CheckItem } from '../receiver.ts';
import type { TlsSettings } from './settings.ts';

/** The data calls: entry programs per function (the four share one return program). */
const DATA_CALLS = [
  { dir: 'read', plain: { symbol: 'SSL_read', program: 'ssl_read_enter' }, ex: { symbol: 'SSL_read_ex', program: 'ssl_read_ex_enter' }, internal: 'ssl_read_internal' },
  { dir: 'write', plain: { symbol: 'SSL_write', program: 'ssl_write_enter' }, ex: { symbol: 'SSL_write_ex', program: 'ssl_write_ex_enter' }, internal: 'ssl_write_internal' },
] as const;
/** Connection ends (once per connection: cost does not matter). */
const END_CALLS = [{ symbol: 'SSL_shutdown', program: 'ssl_free_enter' }, { symbol: 'SSL_free', program: 'ssl_free_enter' }] as const;
export const TLS_RETURN_PROGRAM = 'ssl_return';
export const TLS_PROGRAMS = ['ssl_read_enter', 'ssl_write_enter', 'ssl_read_ex_enter', 'ssl_write_ex_enter', 'ssl_free_enter', TLS_RETURN_PROGRAM];
const SYMBOLS = ['SSL_read', 'SSL_write', 'SSL_read_ex', 'SSL_write_ex', 'SSL_shutdown', 'SSL_free'];
/** Without these two a file is not probed at all. */
const REQUIRED = ['SSL_read', 'SSL_write'];

/**
 * One uprobe: by symbol, or by file offset for an internal function found through its wrapper.
 * `fileOffset`: where it lands in the file either way (uprobe_multi links take offsets only).
 */
export interface TlsProbe { label: string; program: string; ret: boolean; symbol?: string; offset?: number; fileOffset?: number; dir?: 'read' | 'write' }

/** Which probes a file gets. Where SSL_read_ex is a bare wrapper around the internal function both
 * SSL_read and SSL_read_ex call (Debian's libssl.so.3), that one function is probed instead: it
 * takes the _ex arguments and starts with a push, which the kernel emulates; SSL_read itself starts
 * with an instruction the kernel single-steps (~15 µs a hit on our VM instead of ~1.5 µs). */
export function planProbes(elf: ElfFunctions): TlsProbe[] {
  const probes: TlsProbe[] = [];
  for (const c of DATA_CALLS) {
    const callee = wrappedCallee(elf, c.ex.symbol);
    const offset = callee === undefined ? undefined : elf.fileOffset(callee);
    if (offset !== undefined) {
      probes.push({ label: `${c.internal} (${c.plain.symbol}, ${c.ex.symbol})`, program: c.ex.program, ret: true, offset, dir: c.dir });
      continue;
    }
    for (const f of [c.plain, c.ex]) if (elf.found.has(f.symbol)) probes.push({ label: f.symbol, program: f.program, ret: true, symbol: f.symbol, dir: c.dir });
  }
  for (const f of END_CALLS) if (elf.found.has(f.symbol)) probes.push({ label: f.symbol, program: f.program, ret: false, symbol: f.symbol });
  for (const p of probes) {
    const vaddr = p.symbol !== undefined ? elf.addresses.get(p.symbol) : undefined;
    p.fileOffset = p.offset ?? (vaddr === undefined ? undefined : elf.fileOffset(vaddr));
  }
  return probes;
}

const LIBSSL = /^libssl\.so\.(3|1\.1)$/;
const NODE = /^node(js)?\d*$/;
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64', '/lib64', '/usr/lib', '/usr/local/lib64', '/usr/local/lib'];
const NODE_PATHS = ['/usr/bin/node', '/usr/local/bin/node'];
const UPROBE_PMU = '/sys/bus/event_source/devices/uprobe';

export interface TlsCandidate { path: string; source: string }
export interface TlsTarget extends TlsCandidate { probes: TlsProbe[] }
export interface TlsRejected extends TlsCandidate { reason: string }

/** libssl paths from `ldconfig -p` output. */
export function parseLdconfig(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (m && LIBSSL.test(m[1])) out.push(m[3]);
  }
  return out;
}

/** The libssl files a process maps, from its /proc/<pid>/maps text. */
export function mappedLibssl(maps: string): string[] {
  const out = new Set<string>();
  for (const line of maps.split('\n')) {
    const at = line.indexOf('/');
    if (at < 0 || line.endsWith(' (deleted)')) continue;
    const path = line.slice(at);
    if (LIBSSL.test(basename(path))) out.add(path);
  }
  return [...out];
}

function ldconfigLibssl(): string[] {
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return parseLdconfig(execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }));
    } catch { /* next */ }
  }
  return [];
}

function pathNode(): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/')).map((d) => join(d, 'node')).filter((p) => existsSync(p));
}

/** libssl and node of running processes; another mount namespace's files through /proc/<pid>/root. */
function processCandidates(): TlsCandidate[] {
  const out: TlsCandidate[] = [];
  let ownNs = '';
  try { ownNs = readlinkSync('/proc/self/ns/mnt'); } catch { /* no /proc: nothing to find */ }
  let pids: string[] = [];
  try { pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid); } catch { return out; }
  for (const pid of pids) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      const at = (p: string) => (ns === ownNs ? p : `/proc/${pid}/root${p}`);
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (NODE.test(basename(exe)) && !exe.endsWith(' (deleted)')) out.push({ path: at(exe), source: `process ${pid}` });
      for (const lib of mappedLibssl(readFileSync(`/proc/${pid}/maps`, 'utf8'))) out.push({ path: at(lib), source: `process ${pid}` });
    } catch { /* exited, kernel thread, or not ours to read */ }
  }
  return out;
}

/** Every file worth probing, configured ones first (duplicates are removed by resolveTlsTargets). */
export function tlsCandidates(s: TlsSettings): TlsCandidate[] {
  if (!s.enabled) return [];
  const out: TlsCandidate[] = s.binaries.map((path) => ({ path, source: 'config' }));
  if (!s.discover) return out;
  for (const path of ldconfigLibssl()) out.push({ path, source: 'ldconfig' });
  for (const dir of LIB_DIRS) for (const name of ['libssl.so.3', 'libssl.so.1.1']) {
    if (existsSync(join(dir, name))) out.push({ path: join(dir, name), source: 'standard path' });
  }
  for (const path of [...pathNode(), ...NODE_PATHS]) if (existsSync(path)) out.push({ path, source: 'node' });
  out.push(...processCandidates());
  return out;
}

/** One target per file (same inode = same uprobe), with the symbols it defines; the rest say why not. */
export function resolveTlsTargets(candidates: TlsCandidate[]): { targets: TlsTarget[]; rejected: TlsRejected[] } {
  const seen = new Set<string>();
  const targets: TlsTarget[] = [], rejected: TlsRejected[] = [];
  const machine = hostMachine();
  for (const c of candidates) {
    let id: string;
    try {
      const st = statSync(c.path);
      if (!st.isFile()) { rejected.push({ ...c, reason: 'not a regular file' }); continue; }
      id = `${st.dev}:${st.ino}`;
    } catch (err) {
      rejected.push({ ...c, reason: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      continue;
    }
    if (seen.has(id)) continue;
    seen.add(id);
    try {
      const elf = elfFunctions(c.path, SYMBOLS);
      if (machine !== undefined && elf.machine !== machine) { rejected.push({ ...c, reason: `ELF machine ${elf.machine} is not this host's (${machine})` }); continue; }
      const missing = REQUIRED.filter((s) => !elf.found.has(s));
      if (missing.length) {
        rejected.push({ ...c, reason: `no symbol ${missing.join(', ')} (stripped, or OpenSSL is not linked into it)` });
        continue;
      }
      targets.push({ ...c, probes: planProbes(elf) });
    } catch (err) {
      rejected.push({ ...c, reason: (err as Error).message });
    }
  }
  return { targets, rejected };
}

/**
 * The kernel's attach type for uprobe_multi links (Linux 6.6+), or undefined: then each probe is its
 * own perf-event uprobe. Detaching one of those waits for a grace period under a global lock
 * (~110 ms each here: a stop took 3 s); a multi link detaches all of its probes after one.
 */
export function uprobeMultiType(): number | undefined {
  if (process.env.KOTEL_TEST_NO_UPROBE_MULTI === '1') return undefined;   // tests: the older path
  try {
    return btfEnumValue('bpf_attach_type', 'BPF_TRACE_UPROBE_MULTI') ?? undefined;
  } catch {
    return undefined;   // no kernel BTF: no CO-RE either, and this is not what fails first
  }
}

export interface MultiLink { program: string; retprobe: boolean; offsets: number[]; probes: TlsProbe[] }

/** One link per program for a file's probes: the return program's first (an entry whose return is not
 * probed would record calls nobody ends), then each entry program's. Probes without an offset are left out. */
export function multiLinks(probes: TlsProbe[]): MultiLink[] {
  const ret: MultiLink = { program: TLS_RETURN_PROGRAM, retprobe: true, offsets: [], probes: [] };
  const entries = new Map<string, MultiLink>();
  for (const p of probes) {
    if (p.fileOffset === undefined) continue;
    let e = entries.get(p.program);
    if (!e) entries.set(p.program, e = { program: p.program, retprobe: false, offsets: [], probes: [] });
    if (!e.offsets.includes(p.fileOffset)) e.offsets.push(p.fileOffset);
    e.probes.push(p);
    if (p.ret && !ret.offsets.includes(p.fileOffset)) ret.offsets.push(p.fileOffset);
  }
  return [...(ret.offsets.length ? [ret] : []), ...entries.values()];
}

/** Attaches the uprobes of each target; returns the targets whose reads and writes are probed. */
export function attachTls(obj: BpfObject, receiver: string, targets: TlsTarget[], diag: Diagnostics, multi = false): TlsTarget[] {
  const probed: TlsTarget[] = [];
  for (const t of targets) {
    const attached: TlsProbe[] = [];
    if (multi) {
      const links = multiLinks(t.probes);
      for (const l of links) {
        try {
          obj.attachUprobeMulti(l.program, { binaryPath: t.path, offsets: l.offsets, retprobe: l.retprobe });
          attached.push(...l.probes);
        } catch (err) {
          diag.warn(`${receiver}: TLS: cannot attach ${l.program} to ${t.path} (${l.probes.map((p) => p.label).join(', ') || 'returns'}): ${(err as Error).message}`);
          if (l.retprobe) break;   // no entry without its return
        }
      }
      for (const p of t.probes) if (p.fileOffset === undefined) diag.warn(`${receiver}: TLS: ${t.path}:${p.label} has no file offset; not probed`);
      if (attached.some((p) => p.dir === 'read') && attached.some((p) => p.dir === 'write')) probed.push({ ...t, probes: attached });
      continue;
    }
    for (const p of t.probes) {
      const where = p.symbol !== undefined ? { funcName: p.symbol } : { offset: p.offset };
      try {
        // The return probe first: an entry without its return would record calls nobody ends.
        if (p.ret) obj.attachUprobe(TLS_RETURN_PROGRAM, { binaryPath: t.path, ...where, retprobe: true });
        obj.attachUprobe(p.program, { binaryPath: t.path, ...where });
        attached.push(p);
      } catch (err) {
        diag.warn(`${receiver}: TLS: cannot attach a uprobe to ${t.path}:${p.label}: ${(err as Error).message}`);
      }
    }
    if (attached.some((p) => p.dir === 'read') && attached.some((p) => p.dir === 'write')) probed.push({ ...t, probes: attached });
  }
  return probed;
}

/** Reports what cannot be probed: a configured file as a warning, a discovered one as info. */
export function reportRejected(receiver: string, rejected: TlsRejected[], diag: Diagnostics): void {
  for (const r of rejected) {
    const msg = `${receiver}: TLS: not probing ${r.path} (${r.source}): ${r.reason}`;
    if (r.source === 'config') diag.warn(msg); else diag.info(msg);
  }
}

/** `kotel check` items: optional (HTTPS capture is an addition; plain HTTP runs without it). */
export function tlsCheckItems(s: TlsSettings): CheckItem[] {
  if (!s.enabled) return [{ what: 'TLS uprobes', ok: true, optional: true, detail: 'off (tls.enabled: false)' }];
  const items: CheckItem[] = [{
    what: 'TLS uprobes: uprobe PMU', ok: existsSync(UPROBE_PMU), optional: true, detail: UPROBE_PMU,
    fix: 'a kernel with CONFIG_UPROBE_EVENTS=y',
  }];
  const { targets, rejected } = resolveTlsTargets(tlsCandidates(s));
  for (const t of targets) items.push({ what: `TLS uprobes ${t.path}`, ok: true, optional: true, detail: `${t.probes.map((p) => p.label).join(', ')} (${t.source})` });
  for (const r of rejected) {
    items.push({ what: `TLS uprobes ${r.path}`, ok: false, optional: true, detail: `${r.reason} (${r.source})`, fix: 'list a binary with OpenSSL symbols in tls.binaries, or remove it' });
  }
  if (!targets.length) items.push({ what: 'TLS uprobes', ok: false, optional: true, detail: 'no libssl or node binary found', fix: 'install OpenSSL 3 or list binaries in tls.binaries' });
  return items;
}
