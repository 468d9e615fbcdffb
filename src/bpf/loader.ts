// Opens a receiver's BPF object, picks the cheapest hook this kernel offers (tp_btf, then
// raw_tp, then the classic tracepoint), loads and attaches it, falling back on refusal.
import { existsSync } from 'node:fs';
import { hasBpfPrivileges, PRIVILEGE_FIX } from './privileges.ts';
import { join } from 'node:path';
import { BpfObject, btfHasType, probeProgType, type BpfMap } from '../../native/index.ts';
import { KotelStat } from './kotel-event.layout.ts';
import { useSharedMaps } from './shared-maps.ts';

export const OBJECT_DIR = process.env.KOTEL_BPF_DIR ?? join(new URL('../..', import.meta.url).pathname, 'build/bpf');

export type HookKind = 'tp_btf' | 'raw_tp' | 'tracepoint';
export const HOOK_ORDER: HookKind[] = ['tp_btf', 'raw_tp', 'tracepoint'];

/** One way to attach: the program names to keep (the object's other variants are switched off). */
export interface HookVariant {
  kind: HookKind;
  programs: string[];
  /** Kernel objects this variant needs: a tp_btf typedef (`btf_trace_<tp>`) or a tracefs event dir. */
  tracepoint: string;  // e.g. 'raw_syscalls/sys_exit' (category/name) or 'sys_exit' for raw ones
  /** What the variant attaches to, for `kotel check` (default: the receiver's label). */
  label?: string;
}

export interface LoadRequest {
  receiver: string;
  object: string;                   // file name in build/bpf
  variants: HookVariant[];          // in order of preference
  force?: HookKind;                 // config: use exactly this kind
  globals?: Record<string, Buffer>;
  /** Maps shared with other receivers' objects (see shared-maps.ts). */
  sharedMaps?: readonly string[];
  /** Map sizes to set before load (settings that bound correctness: in-flight tables, series). */
  maxEntries?: Record<string, number>;
  /** Programs not attached by a variant (e.g. uprobes the receiver attaches itself) left unloaded. */
  skipPrograms?: string[];
  /** Called after open, before load: map sizes from the config (they may depend on the variant). */
  beforeLoad?: (obj: BpfObject, variant: HookVariant) => void;
  /** Called after load, before attach: fill config maps. */
  beforeAttach?: (obj: BpfObject) => void;
}

export interface LoadedProgram {
  object: BpfObject;
  variant: HookVariant;
  /** Why the preferred variants were not used. */
  skipped: string[];
}

export class ReceiverLoadError extends Error {
  readonly receiver: string;
  readonly causes: string[];
  constructor(receiver: string, causes: string[]) {
    super(`receiver ${receiver} could not attach:\n  - ${causes.join('\n  - ')}`);
    this.receiver = receiver;
    this.causes = causes;
  }
}

export { PRIVILEGE_FIX };

export function variantAvailable(v: HookVariant): string | undefined {
  if (!hasBpfPrivileges()) return `BPF is refused without privileges: ${PRIVILEGE_FIX}`;
  const event = v.tracepoint.split('/').pop()!;
  switch (v.kind) {
    case 'tp_btf':
      if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF at /sys/kernel/btf/vmlinux';
      if (!probeProgType('tracing')) return 'BPF_PROG_TYPE_TRACING is refused';
      return btfHasType(`btf_trace_${event}`, 'typedef') ? undefined : `kernel BTF has no tracepoint ${event}`;
    case 'raw_tp':
      if (!probeProgType('raw_tracepoint')) return 'BPF_PROG_TYPE_RAW_TRACEPOINT is refused';
      return btfHasType(`btf_trace_${event}`, 'typedef') || existsSync(tracefsEvent(v.tracepoint)) ? undefined : `no tracepoint ${event}`;
    case 'tracepoint':
      if (!probeProgType('tracepoint')) return 'BPF_PROG_TYPE_TRACEPOINT is refused';
      if (!existsSync('/sys/kernel/tracing/events')) return 'tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)';
      return existsSync(tracefsEvent(v.tracepoint)) ? undefined : `no tracefs event ${v.tracepoint}`;
  }
}

function tracefsEvent(tp: string): string {
  return `/sys/kernel/tracing/events/${tp}`;
}

export function objectPath(object: string): string {
  return join(OBJECT_DIR, object);
}

export function loadAndAttach(req: LoadRequest): LoadedProgram {
  const path = objectPath(req.object);
  if (!existsSync(path)) throw new ReceiverLoadError(req.receiver, [`${path} is missing: run bash scripts/setup.sh`]);
  const skipped: string[] = [];
  const candidates = req.force ? req.variants.filter((v) => v.kind === req.force) : req.variants;
  const allPrograms = new Set(req.variants.flatMap((v) => v.programs));
  for (const variant of candidates) {
    const missing = variantAvailable(variant);
    if (missing) { skipped.push(`${variant.kind}: ${missing}`); continue; }
    const obj = new BpfObject(path);
    try {
      for (const p of allPrograms) obj.setAutoload(p, variant.programs.includes(p));
      for (const p of req.skipPrograms ?? []) obj.setAutoload(p, false);
      for (const [name, value] of Object.entries(req.globals ?? {})) obj.setGlobal(name, value);
      useSharedMaps(obj, req.sharedMaps ?? []);
      for (const [name, n] of Object.entries(req.maxEntries ?? {})) obj.map(name).setMaxEntries(n);
      req.beforeLoad?.(obj, variant);
      obj.load();
      req.beforeAttach?.(obj);
      for (const p of variant.programs) obj.attach(p);
      return { object: obj, variant, skipped };
    } catch (err) {
      obj.close();
      const e = err as Error & { hint?: string };
      skipped.push(`${variant.kind}: ${e.message}${e.hint && !e.message.includes(e.hint) ? ` (${e.hint})` : ''}`);
    }
  }
  throw new ReceiverLoadError(req.receiver, skipped);
}

export function u8(v: number): Buffer { return Buffer.from([v & 0xff]); }
export function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }
export function u64(v: number | bigint): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; }

/** One u64 counter slot of an array map (per-CPU arrays are summed by the addon). */
export function readCounter(map: BpfMap, slot: number): number {
  const v = map.lookup(u32(slot));
  return v ? Number(v.readBigUInt64LE(0)) : 0;
}

/** Sums of the per-CPU `stats` array every kotel program keeps (see kotel_event.h). */
export function readStats(stats: BpfMap): Record<keyof typeof KotelStat, number> {
  const out = {} as Record<keyof typeof KotelStat, number>;
  for (const [name, slot] of Object.entries(KotelStat) as Array<[keyof typeof KotelStat, number]>) {
    if (slot >= KotelStat.KOTEL_STAT_COUNT) continue;
    out[name] = readCounter(stats, slot);
  }
  return out;
}

/** Stops new events (detaches `programs`), lets the ring reader deliver what the kernel already
 * wrote, then closes it: the receiver's final collection sees everything. */
export async function detachAndDrain(loaded: LoadedProgram, ring: { close(): void }, programs: readonly string[] = loaded.variant.programs): Promise<void> {
  loaded.object.detachAll(programs);
  await new Promise((r) => setTimeout(r, 50));
  ring.close();
}
