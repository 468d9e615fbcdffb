// Typed wrapper over the kotel native addon (native/src/*.cc, a generic libbpf binding).
// Every argument is validated here, before the native call, so mistakes surface as
// errors naming the object and what exists. Errors thrown by the addon and by this
// wrapper share one shape: BpfError.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';

// ---- public types --------------------------------------------------------------

/** Error thrown by the addon and by this wrapper. */
export interface BpfError extends Error {
  /** errno name, e.g. 'EPERM', 'ENOENT', 'EINVAL' ('ENOTSUPP' for the kernel's 524). */
  code: string;
  /** positive errno number */
  errno: number;
  /** operation, e.g. 'attach:handle_exit', 'load:syscalls.bpf.o', 'lookup:counts' */
  op: string;
  /** plain-words cause when a usual one is known, else '' */
  hint: string;
  /** libbpf log tail (verifier log on load failures), else '' */
  details: string;
}

export function isBpfError(e: unknown): e is BpfError {
  return e instanceof Error && typeof (e as Partial<BpfError>).code === 'string' &&
    typeof (e as Partial<BpfError>).op === 'string';
}

export interface ProgramInfo { name: string; section: string; type: string; autoload: boolean }
export type GlobalSection = '.rodata' | '.data' | '.bss' | (string & {});
export interface GlobalInfo { name: string; section: GlobalSection; offset: number; size: number }
export interface UprobeOptions {
  binaryPath: string;
  /** symbol to attach to (required unless offset is given) */
  funcName?: string;
  /** offset within funcName, or a file offset when funcName is absent */
  offset?: number;
  retprobe?: boolean;
  /** only this process (default: every process running the binary) */
  pid?: number;
}

/** One link for several probes of one file (kernel 6.6+; the program was loaded for it). */
export interface UprobeMultiOptions {
  binaryPath: string;
  /** file offsets of the probed instructions */
  offsets: number[];
  retprobe?: boolean;
}
/** Counters are numbers (exact below 2^53; 2^53 ns is 104 days of BPF CPU time). */
export interface ProgramStats { name: string; id: number; runTimeNs: number; runCount: number; recursionMisses: number }
export interface DumpResult {
  count: number;
  /** count × keySize bytes, contiguous */
  keys: Buffer;
  /** count × valueSize bytes; per-CPU maps are summed per u64 slot over all CPUs */
  values: Buffer;
}
export interface RingReaderOptions {
  /** consume period in ms (default 5) */
  intervalMs?: number;
  /** batches handed to JS but not yet run; beyond it batches are dropped and counted (default 64) */
  maxQueuedBatches?: number;
  /** soft size cap of one batch (default 1 MiB; one larger record still gets its own batch) */
  maxBatchBytes?: number;
}
export interface RingReaderStats {
  /** records delivered to onBatch */
  records: number;
  batches: number;
  bytes: number;
  /** records consumed from the ring but dropped (JS queue full, or discarded at close) */
  droppedRecords: number;
  droppedBatches: number;
  /** batches waiting for the JS thread */
  queuedBatches: number;
}
export type BtfKind = 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'enum64' | 'fwd' | 'typedef' |
  'volatile' | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec' | 'float' | 'decl_tag' | 'type_tag';
export interface BtfMember {
  name: string;
  /** byte offset (bitOffset / 8, floored) */
  offset: number;
  bitOffset: number;
  /** 0 unless a bitfield */
  bitfieldSize: number;
  /** bytes of the member's type */
  size: number;
  /** C-ish type name, e.g. '__u32', 'struct sock *', 'char[16]' */
  type: string;
}
export interface BtfStructInfo { name: string; kind: 'struct' | 'union'; size: number; members: BtfMember[] }
export type ProgTypeName = 'tracepoint' | 'raw_tracepoint' | 'tracing' | 'kprobe' | 'perf_event' | 'lsm' |
  'socket_filter' | 'cgroup_skb' | (string & {});
export type MapTypeName = 'hash' | 'array' | 'percpu_hash' | 'percpu_array' | 'lru_hash' | 'lru_percpu_hash' |
  'ringbuf' | 'sk_storage' | 'task_storage' | (string & {});
export type BatchCallback = (batch: Buffer, count: number) => void;

// ---- the native binding's shape (also what a fake binding implements) ------------

export interface NativeBpfObject {
  readonly name: string;
  readonly path: string;
  readonly loaded: boolean;
  readonly closed: boolean;
  programs(): ProgramInfo[];
  setAutoload(prog: string, on: boolean): void;
  globals(): GlobalInfo[];
  setGlobal(name: string, value: Buffer): void;
  getGlobal(name: string): Buffer;
  load(): void;
  attach(prog: string): void;
  attachUprobe(prog: string, opts: UprobeOptions): void;
  setExpectedAttachType(prog: string, type: number): void;
  attachUprobeMulti(prog: string, opts: UprobeMultiOptions & { attachType: number }): void;
  detach(prog: string): number;
  detachAll(progs: string[]): number;
  map(name: string): NativeBpfMap;
  maps(): string[];
  programStats(): ProgramStats[];
  enableRunTimeStats(): boolean;
  lastLog(): string;
  close(): void;
}
export interface NativeBpfMap {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly fd: number;
  readonly perCpu: boolean;
  setMaxEntries(n: number): void;
  createStandalone(): number;
  reuseFd(fd: number): void;
  lookup(key: Buffer): Buffer | null;
  lookupPerCpu(key: Buffer): Buffer[] | null;
  update(key: Buffer, value: Buffer, flags: number): void;
  delete(key: Buffer): boolean;
  dump(): DumpResult;
  dumpAndDelete(): DumpResult;
}
export interface NativeRingReader {
  readonly closed: boolean;
  stats(): RingReaderStats;
  close(): void;
  ref(): void;
  unref(): void;
}
export interface NativeBinding {
  BpfObject: new (path: string) => NativeBpfObject;
  RingReader: new (map: NativeBpfMap, onBatch: BatchCallback, opts: Required<RingReaderOptions>) => NativeRingReader;
  libbpfVersion(): string;
  numPossibleCpus(): number;
  probeProgType(name: string): boolean;
  probeMapType(name: string): boolean;
  btfHasType(name: string, kind?: string): boolean;
  btfEnumValue(enumName: string, valueName: string): number | null;
  btfStruct(path: string | null, name: string): BtfStructInfo | null;
}

// ---- loading --------------------------------------------------------------------

export const ADDON_PATH = fileURLToPath(new URL('./build/Release/kotel_native.node', import.meta.url));
let current: NativeBinding | undefined;

/** Replaces the binding used by objects created afterwards (tests pass a fake); undefined restores the real one. */
export function setBinding(b: NativeBinding | undefined): void {
  current = b;
}

/** The binding in use; loads the compiled addon on first use. */
export function getBinding(): NativeBinding {
  if (current) return current;
  if (!existsSync(ADDON_PATH)) {
    throw makeError('load-addon', 'ENOENT',
      `kotel native addon is not built (${ADDON_PATH} is missing); run: bash scripts/setup.sh`,
      'run bash scripts/setup.sh');
  }
  current = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
  return current;
}

// ---- errors ---------------------------------------------------------------------

const ERRNO: Record<string, number> = { EPERM: 1, ENOENT: 2, EBADF: 9, EINVAL: 22, ERANGE: 34 };

function makeError(op: string, code: string, message: string, hint = ''): BpfError {
  const e = new Error(message) as BpfError;
  e.code = code;
  e.errno = ERRNO[code] ?? 0;
  e.op = op;
  e.hint = hint;
  e.details = '';
  return e;
}

function invalid(op: string, message: string): BpfError {
  return makeError(op, 'EINVAL', message);
}

function checkString(op: string, what: string, v: unknown): asserts v is string {
  if (typeof v !== 'string' || v.length === 0) throw invalid(op, `${op}: ${what} must be a non-empty string`);
}

function checkBuffer(op: string, what: string, v: unknown, size?: number): asserts v is Buffer {
  if (!Buffer.isBuffer(v)) throw invalid(op, `${op}: ${what} must be a Buffer`);
  if (size !== undefined && v.length !== size) {
    throw invalid(op, `${op}: ${what} must be ${size} bytes, got ${v.length}`);
  }
}

function checkInt(op: string, what: string, v: unknown, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(op, `${op}: ${what} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

// ---- classes --------------------------------------------------------------------

const nativeMaps = new WeakMap<BpfMap, NativeBpfMap>();
const mapOwners = new WeakMap<BpfMap, BpfObject>();

/** A CO-RE BPF object file: open (constructor) → setGlobal/setAutoload → load() → attach(). */
export class BpfObject {
  readonly path: string;
  readonly name: string;
  readonly #native: NativeBpfObject;
  readonly #binding: NativeBinding;
  readonly #maps = new Map<string, BpfMap>();
  readonly #readers = new Set<RingReader>();
  #programs: ProgramInfo[] | undefined;
  #globals: GlobalInfo[] | undefined;

  constructor(path: string, opts: { binding?: NativeBinding } = {}) {
    checkString('open', 'path', path);
    this.#binding = opts.binding ?? getBinding();
    this.#native = new this.#binding.BpfObject(path);
    this.path = path;
    this.name = this.#native.name;
  }

  get loaded(): boolean { return this.#native.loaded; }
  get closed(): boolean { return this.#native.closed; }
  get binding(): NativeBinding { return this.#binding; }

  programs(): ProgramInfo[] {
    return this.#native.programs();
  }

  #program(op: string, prog: unknown): string {
    checkString(op, 'program name', prog);
    this.#programs ??= this.#native.programs();
    if (!this.#programs.some((p) => p.name === prog)) {
      throw makeError(`${op}:${prog}`, 'ENOENT',
        `${op}: object ${this.name} has no program '${prog}' (programs: ${this.#programs.map((p) => p.name).join(', ')})`);
    }
    return prog;
  }

  setAutoload(prog: string, on: boolean): void {
    this.#program('setAutoload', prog);
    if (typeof on !== 'boolean') throw invalid('setAutoload', 'setAutoload: on must be a boolean');
    this.#native.setAutoload(prog, on);
  }

  globals(): GlobalInfo[] {
    this.#globals ??= this.#native.globals();
    return this.#globals;
  }

  #global(op: string, name: unknown): GlobalInfo {
    checkString(op, 'global name', name);
    const g = this.globals().find((x) => x.name === name);
    if (!g) {
      throw makeError(`${op}:${name}`, 'ENOENT',
        `${op}: object ${this.name} has no global '${name}' (globals: ${this.globals().map((x) => x.name).join(', ')})`);
    }
    return g;
  }

  /** Writes a global's value: `const volatile` ones before load(); .data/.bss ones also after. */
  setGlobal(name: string, value: Buffer): void {
    const g = this.#global('setGlobal', name);
    checkBuffer(`setGlobal:${name}`, `value of ${this.name}/${name} (${g.section})`, value, g.size);
    this.#native.setGlobal(name, value);
  }

  getGlobal(name: string): Buffer {
    this.#global('getGlobal', name);
    return this.#native.getGlobal(name);
  }

  load(): void {
    this.#native.load();
  }

  /** Attaches a tracepoint / raw_tp / tp_btf program by its section. */
  attach(prog: string): void {
    this.#program('attach', prog);
    this.#native.attach(prog);
  }

  attachUprobe(prog: string, opts: UprobeOptions): void {
    this.#program('attachUprobe', prog);
    const op = `attach:${prog}`;
    if (typeof opts !== 'object' || opts === null) throw invalid(op, 'attachUprobe: opts must be an object');
    checkString(op, 'opts.binaryPath', opts.binaryPath);
    if (opts.funcName !== undefined) checkString(op, 'opts.funcName', opts.funcName);
    if (opts.offset !== undefined) checkInt(op, 'opts.offset', opts.offset, 0, Number.MAX_SAFE_INTEGER);
    if (opts.funcName === undefined && opts.offset === undefined) {
      throw invalid(op, 'attachUprobe: give opts.funcName or opts.offset');
    }
    if (opts.retprobe !== undefined && typeof opts.retprobe !== 'boolean') {
      throw invalid(op, 'attachUprobe: opts.retprobe must be a boolean');
    }
    if (opts.pid !== undefined) checkInt(op, 'opts.pid', opts.pid, -1, 0x7fffffff);
    this.#native.attachUprobe(prog, opts);
  }

  /** Before load(): the attach type the kernel verifies the program for (e.g. uprobe_multi). */
  setExpectedAttachType(prog: string, type: number): void {
    this.#program('setExpectedAttachType', prog);
    checkInt(`setExpectedAttachType:${prog}`, 'type', type, 0, 0xffffffff);
    this.#native.setExpectedAttachType(prog, type);
  }

  /** A uprobe_multi link: every offset of one file in one link (the program was loaded for that type). */
  attachUprobeMulti(prog: string, opts: UprobeMultiOptions): void {
    this.#program('attachUprobeMulti', prog);
    const op = `attach:${prog}`;
    if (typeof opts !== 'object' || opts === null) throw invalid(op, 'attachUprobeMulti: opts must be an object');
    checkString(op, 'opts.binaryPath', opts.binaryPath);
    if (!Array.isArray(opts.offsets) || opts.offsets.length === 0) throw invalid(op, 'attachUprobeMulti: opts.offsets must list at least one offset');
    for (const o of opts.offsets) checkInt(op, 'opts.offsets[]', o, 0, Number.MAX_SAFE_INTEGER);
    const type = this.#binding.btfEnumValue('bpf_attach_type', 'BPF_TRACE_UPROBE_MULTI');
    if (type === null) throw makeError(op, 'EOPNOTSUPP', `${op}: this kernel has no uprobe_multi links (Linux 6.6+)`);
    this.#native.attachUprobeMulti(prog, { binaryPath: opts.binaryPath, offsets: [...opts.offsets], retprobe: opts.retprobe === true, attachType: type });
  }

  /** Destroys every link of these programs at once (uprobe_multi links are closed in parallel). */
  detachAll(progs: readonly string[]): number {
    for (const p of progs) this.#program('detachAll', p);
    return this.#native.detachAll([...progs]);
  }

  /** Destroys every link of the program; returns how many there were. */
  detach(prog: string): number {
    this.#program('detach', prog);
    return this.#native.detach(prog);
  }

  maps(): string[] {
    return this.#native.maps();
  }

  map(name: string): BpfMap {
    checkString('map', 'map name', name);
    let m = this.#maps.get(name);
    if (!m) {
      const names = this.#native.maps();
      if (!names.includes(name)) {
        throw makeError(`map:${name}`, 'ENOENT', `map: object ${this.name} has no map '${name}' (maps: ${names.join(', ')})`);
      }
      m = new BpfMap(this.#native.map(name), this.name, this.#binding);
      mapOwners.set(m, this);
      this.#maps.set(name, m);
    }
    return m;
  }

  programStats(): ProgramStats[] {
    return this.#native.programStats();
  }

  /** Turns on kernel BPF run-time accounting while this object is open; false if refused. */
  enableRunTimeStats(): boolean {
    return this.#native.enableRunTimeStats();
  }

  /** libbpf output of the last native operation (warnings and errors). */
  lastLog(): string {
    return this.#native.lastLog();
  }

  /** Stops ring readers of this object's maps, destroys links, frees the object. Idempotent. */
  close(): void {
    for (const r of this.#readers) r.close();
    this.#readers.clear();
    this.#native.close();
  }

  /** @internal */
  registerReader(r: RingReader): void { this.#readers.add(r); }
  /** @internal */
  unregisterReader(r: RingReader): void { this.#readers.delete(r); }
}

export class BpfMap {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;
  readonly objectName: string;
  readonly #native: NativeBpfMap;
  readonly #binding: NativeBinding;

  /** Use BpfObject.map(name). */
  constructor(native: NativeBpfMap, objectName: string, binding: NativeBinding) {
    this.#native = native;
    this.#binding = binding;
    this.name = native.name;
    this.type = native.type;
    this.typeName = native.typeName;
    this.keySize = native.keySize;
    this.valueSize = native.valueSize;
    this.perCpu = native.perCpu;
    this.objectName = objectName;
    nativeMaps.set(this, native);
  }

  get maxEntries(): number { return this.#native.maxEntries; }
  get fd(): number { return this.#native.fd; }

  #op(verb: string): string { return `${verb}:${this.name}`; }
  #what(verb: string): string { return `${verb} ${this.objectName}/${this.name}`; }

  #key(verb: string, key: unknown): asserts key is Buffer {
    checkBuffer(this.#op(verb), `key of ${this.objectName}/${this.name}`, key, this.keySize);
  }

  /** Before load(): resizes the map. */
  setMaxEntries(n: number): void {
    checkInt(this.#op('setMaxEntries'), 'n', n, 1, 0xffffffff);
    this.#native.setMaxEntries(n);
  }

  /** Before load(): creates a kernel map with this definition that the caller owns (returns its fd). */
  createStandalone(): number {
    return this.#native.createStandalone();
  }

  /** Before load(): this object uses the existing map behind `fd` (libbpf keeps its own copy of the fd). */
  reuseFd(fd: number): void {
    checkInt(this.#op('reuseFd'), 'fd', fd, 0, 0x7fffffff);
    this.#native.reuseFd(fd);
  }

  /** The value, or null when absent. Per-CPU maps: each u64 slot summed over all possible CPUs. */
  lookup(key: Buffer): Buffer | null {
    this.#key('lookup', key);
    if (this.perCpu && this.valueSize % 8 !== 0) {
      throw invalid(this.#op('lookup'),
        `${this.#what('lookup')}: per-CPU values of ${this.valueSize} bytes cannot be summed as u64 slots; use lookupPerCpu()`);
    }
    return this.#native.lookup(key);
  }

  /** Per-CPU maps only: one valueSize Buffer per possible CPU, or null when absent. */
  lookupPerCpu(key: Buffer): Buffer[] | null {
    this.#key('lookupPerCpu', key);
    if (!this.perCpu) throw invalid(this.#op('lookupPerCpu'), `${this.#what('lookupPerCpu')}: not a per-CPU map; use lookup()`);
    return this.#native.lookupPerCpu(key);
  }

  /**
   * flags: 0 BPF_ANY, 1 BPF_NOEXIST, 2 BPF_EXIST. Per-CPU maps take valueSize bytes (copied to
   * every CPU, e.g. to zero a counter) or roundup(valueSize, 8) × numPossibleCpus() bytes.
   */
  update(key: Buffer, value: Buffer, flags = 0): void {
    const op = this.#op('update');
    this.#key('update', key);
    if (this.perCpu) {
      checkBuffer(op, `value of ${this.objectName}/${this.name}`, value);
      const raw = ((this.valueSize + 7) & ~7) * this.#binding.numPossibleCpus();
      if (value.length !== this.valueSize && value.length !== raw) {
        throw invalid(op, `${this.#what('update')}: value must be ${this.valueSize} bytes (every CPU) or ${raw} bytes (per CPU)`);
      }
    } else {
      checkBuffer(op, `value of ${this.objectName}/${this.name}`, value, this.valueSize);
    }
    checkInt(op, 'flags', flags, 0, 0xffffffff);
    this.#native.update(key, value, flags);
  }

  /** true if the key existed. */
  delete(key: Buffer): boolean {
    this.#key('delete', key);
    return this.#native.delete(key);
  }

  /** Every entry, with BPF_MAP_LOOKUP_BATCH when the map type supports it. */
  dump(): DumpResult {
    return this.#native.dump();
  }

  /** Reads and removes every entry (hash maps; arrays cannot delete and throw). */
  dumpAndDelete(): DumpResult {
    return this.#native.dumpAndDelete();
  }
}

/**
 * Drains a BPF_MAP_TYPE_RINGBUF on a native thread every intervalMs and calls onBatch on the JS
 * thread with a Buffer of framed records: [u32 length][payload][zero pad to 8], repeated `count`
 * times (walk it with forEachRecord). No callback runs after close().
 */
export class RingReader {
  readonly #native: NativeRingReader;
  readonly #owner: BpfObject | undefined;
  #closed = false;

  constructor(map: BpfMap, onBatch: BatchCallback, opts: RingReaderOptions = {}) {
    const op = `ringReader:${map?.name ?? '?'}`;
    const native = map instanceof BpfMap ? nativeMaps.get(map) : undefined;
    if (!native) throw invalid(op, 'RingReader: map must be a BpfMap from BpfObject.map(name)');
    if (map.typeName !== 'ringbuf') {
      throw invalid(op, `RingReader: map ${map.objectName}/${map.name} is a ${map.typeName}, not a ringbuf`);
    }
    if (typeof onBatch !== 'function') throw invalid(op, 'RingReader: onBatch must be a function');
    if (typeof opts !== 'object' || opts === null) throw invalid(op, 'RingReader: opts must be an object');
    const o: Required<RingReaderOptions> = {
      intervalMs: opts.intervalMs ?? 5,
      maxQueuedBatches: opts.maxQueuedBatches ?? 64,
      maxBatchBytes: opts.maxBatchBytes ?? 1 << 20,
    };
    checkInt(op, 'opts.intervalMs', o.intervalMs, 1, 60_000);
    checkInt(op, 'opts.maxQueuedBatches', o.maxQueuedBatches, 1, 1 << 20);
    checkInt(op, 'opts.maxBatchBytes', o.maxBatchBytes, 64, 1 << 30);
    const owner = mapOwners.get(map);
    const binding = owner?.binding ?? getBinding();
    // The closed guard makes "no callback after close()" hold even for a batch already queued.
    const guarded: BatchCallback = (batch, count) => {
      if (!this.#closed) onBatch(batch, count);
    };
    this.#native = new binding.RingReader(native, guarded, o);
    this.#owner = owner;
    owner?.registerReader(this);
  }

  get closed(): boolean { return this.#closed; }

  stats(): RingReaderStats {
    return this.#native.stats();
  }

  /** Keeps the event loop alive while open (the default). */
  ref(): this {
    this.#native.ref();
    return this;
  }

  /** Lets the process exit while the reader is open. */
  unref(): this {
    this.#native.unref();
    return this;
  }

  /** Stops and joins the thread; idempotent; safe from inside onBatch. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    this.#owner?.unregisterReader(this);
  }
}

// ---- record framing ----------------------------------------------------------------

/** Bytes before each record's payload in a batch. */
export const RECORD_HEADER_BYTES = 4;
const LITTLE = endianness() === 'LE';

/**
 * Walks a batch: fn(view, offset, length) per record, where view spans the whole batch and
 * offset/length locate the payload within it (read fields with view.getUint32(offset + f, true)).
 * Returns the bytes walked. Throws on a malformed batch.
 */
export function forEachRecord(batch: Buffer, count: number,
  fn: (view: DataView, offset: number, length: number) => void): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const end = batch.byteLength;
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + RECORD_HEADER_BYTES > end) {
      throw invalid('forEachRecord', `forEachRecord: batch truncated at record ${i} of ${count} (offset ${off})`);
    }
    const len = view.getUint32(off, LITTLE);
    const payload = off + RECORD_HEADER_BYTES;
    if (payload + len > end) {
      throw invalid('forEachRecord', `forEachRecord: record ${i} of ${len} bytes overruns the batch at offset ${off}`);
    }
    fn(view, payload, len);
    off = (payload + len + 7) & ~7;
  }
  return off;
}

// ---- free functions -------------------------------------------------------------------

/** libbpf's version string, e.g. 'v1.1'. */
export function libbpfVersion(): string {
  return getBinding().libbpfVersion();
}

export function numPossibleCpus(): number {
  return getBinding().numPossibleCpus();
}

/** Whether the kernel loads programs of this type ('tracing' = a tp_btf program loads). Not whether attach works. */
export function probeProgType(name: ProgTypeName): boolean {
  checkString('probeProgType', 'name', name);
  return getBinding().probeProgType(name);
}

export function probeMapType(name: MapTypeName): boolean {
  checkString('probeMapType', 'name', name);
  return getBinding().probeMapType(name);
}

/** Whether the kernel's BTF has a type of that name (and kind). */
export function btfHasType(name: string, kind?: BtfKind): boolean {
  checkString('btfHasType', 'name', name);
  if (kind !== undefined) checkString('btfHasType', 'kind', kind);
  return kind === undefined ? getBinding().btfHasType(name) : getBinding().btfHasType(name, kind);
}

/** The value of a kernel enum's enumerator (e.g. bpf_attach_type, BPF_TRACE_UPROBE_MULTI), null if absent. */
export function btfEnumValue(enumName: string, valueName: string): number | null {
  checkString('btfEnumValue', 'enumName', enumName);
  checkString('btfEnumValue', 'valueName', valueName);
  return getBinding().btfEnumValue(enumName, valueName);
}

/** Layout of a struct/union from an object file's BTF (path) or the kernel's (null); null if absent. */
export function btfStruct(path: string | null, name: string): BtfStructInfo | null {
  if (path !== null) checkString('btfStruct', 'path', path);
  checkString('btfStruct', 'name', name);
  return getBinding().btfStruct(path, name);
}
