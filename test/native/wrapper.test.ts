// Unit tests of native/index.ts against a fake binding: validation, error shapes, framing.
import assert from 'node:assert/strict';
import {
  BpfObject, RingReader, forEachRecord, isBpfError, setBinding, getBinding, btfStruct, probeProgType,
  RECORD_HEADER_BYTES,
  type NativeBinding, type NativeBpfMap, type NativeBpfObject, type NativeRingReader, type RingReaderOptions,
  type BatchCallback, type DumpResult, type UprobeOptions, type UprobeMultiOptions,
} from '../../native/index.ts';

interface Call { fn: string; args: unknown[] }

class FakeMap implements NativeBpfMap {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly keySize = 4;
  readonly valueSize: number;
  readonly maxEntries = 16;
  readonly fd = 42;
  readonly perCpu: boolean;
  readonly calls: Call[];
  constructor(name: string, typeName: string, valueSize: number, calls: Call[]) {
    this.name = name;
    this.typeName = typeName;
    this.type = typeName === 'ringbuf' ? 27 : typeName === 'percpu_array' ? 6 : 1;
    this.perCpu = typeName.startsWith('percpu');
    this.valueSize = valueSize;
    this.calls = calls;
  }
  setMaxEntries(n: number): void { this.calls.push({ fn: 'setMaxEntries', args: [n] }); }
  createStandalone(): number { this.calls.push({ fn: 'createStandalone', args: [] }); return 99; }
  reuseFd(fd: number): void { this.calls.push({ fn: 'reuseFd', args: [fd] }); }
  lookup(key: Buffer): Buffer | null { this.calls.push({ fn: 'lookup', args: [key] }); return null; }
  lookupPerCpu(key: Buffer): Buffer[] | null { this.calls.push({ fn: 'lookupPerCpu', args: [key] }); return null; }
  update(key: Buffer, value: Buffer, flags: number): void { this.calls.push({ fn: 'update', args: [key, value, flags] }); }
  delete(key: Buffer): boolean { this.calls.push({ fn: 'delete', args: [key] }); return true; }
  dump(): DumpResult { return { count: 0, keys: Buffer.alloc(0), values: Buffer.alloc(0) }; }
  dumpAndDelete(): DumpResult { return this.dump(); }
}

function fakeBinding(calls: Call[]) {
  const readers: FakeReader[] = [];
  class FakeObject implements NativeBpfObject {
    readonly name = 'fake';
    readonly path: string;
    loaded = false;
    closed = false;
    readonly mapsByName = new Map<string, FakeMap>([
      ['counts', new FakeMap('counts', 'hash', 8, calls)],
      ['pcpu', new FakeMap('pcpu', 'percpu_array', 8, calls)],
      ['pcpu_odd', new FakeMap('pcpu_odd', 'percpu_array', 12, calls)],
      ['events', new FakeMap('events', 'ringbuf', 0, calls)],
    ]);
    constructor(path: string) {
      this.path = path;
      calls.push({ fn: 'open', args: [path] });
    }
    programs() { return [{ name: 'handle_exit', section: 'tp/syscalls/sys_exit_read', type: 'tracepoint', autoload: true }]; }
    setAutoload(prog: string, on: boolean) { calls.push({ fn: 'setAutoload', args: [prog, on] }); }
    globals() { return [{ name: 'target_tgid', section: '.rodata', offset: 0, size: 4 }]; }
    setGlobal(name: string, value: Buffer) { calls.push({ fn: 'setGlobal', args: [name, value] }); }
    getGlobal(name: string) { calls.push({ fn: 'getGlobal', args: [name] }); return Buffer.alloc(4); }
    load() {
      calls.push({ fn: 'load', args: [] });
      const e = Object.assign(new Error('load fake.bpf.o: EACCES (Permission denied) — the verifier refused the program; see err.details'), {
        code: 'EACCES', errno: 13, op: 'load:fake.bpf.o', hint: 'the verifier refused the program; see err.details',
        details: '-- BEGIN PROG LOAD LOG --\nR0 invalid mem access\n',
      });
      throw e;
    }
    attach(prog: string) { calls.push({ fn: 'attach', args: [prog] }); }
    attachUprobe(prog: string, opts: UprobeOptions) { calls.push({ fn: 'attachUprobe', args: [prog, opts] }); }
    detach(prog: string) { calls.push({ fn: 'detach', args: [prog] }); return 1; }
    detachAll(progs: string[]) { calls.push({ fn: 'detachAll', args: [progs] }); return progs.length; }
    setExpectedAttachType(prog: string, type: number) { calls.push({ fn: 'setExpectedAttachType', args: [prog, type] }); }
    attachUprobeMulti(prog: string, opts: UprobeMultiOptions & { attachType: number }) { calls.push({ fn: 'attachUprobeMulti', args: [prog, opts] }); }
    map(name: string): NativeBpfMap { return this.mapsByName.get(name)!; }
    maps() { return [...this.mapsByName.keys()]; }
    programStats() { return []; }
    enableRunTimeStats() { return true; }
    lastLog() { return ''; }
    close() { this.closed = true; calls.push({ fn: 'close', args: [] }); }
  }
  class FakeReader implements NativeRingReader {
    closed = false;
    readonly cb: BatchCallback;
    readonly opts: Required<RingReaderOptions>;
    constructor(map: NativeBpfMap, cb: BatchCallback, opts: Required<RingReaderOptions>) {
      this.cb = cb;
      this.opts = opts;
      readers.push(this);
      calls.push({ fn: 'ringReader', args: [map.name, opts] });
    }
    stats() { return { records: 0, batches: 0, bytes: 0, droppedRecords: 0, droppedBatches: 0, queuedBatches: 0 }; }
    close() { this.closed = true; calls.push({ fn: 'readerClose', args: [] }); }
    ref() {}
    unref() {}
  }
  const binding: NativeBinding = {
    BpfObject: FakeObject,
    RingReader: FakeReader,
    libbpfVersion: () => 'v1.1',
    numPossibleCpus: () => 2,
    probeProgType: (n) => n === 'tracepoint',
    probeMapType: () => true,
    btfHasType: () => true,
    btfEnumValue: (e, v) => (e === 'bpf_attach_type' && v === 'BPF_TRACE_UPROBE_MULTI' ? 48 : null),
    btfStruct: (p, n) => ({ name: n, kind: 'struct', size: 8, members: [] }),
  };
  return { binding, readers };
}

function expectErr(fn: () => unknown, code: string, op: string | RegExp, msg?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBpfError(e), `not a BpfError: ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof op === 'string') assert.equal(e.op, op); else assert.match(e.op, op);
    if (msg) assert.match(e.message, msg);
    assert.equal(typeof e.hint, 'string');
    assert.equal(typeof e.details, 'string');
    return true;
  });
}

describe('native wrapper (fake binding)', () => {
  let calls: Call[];
  let fake: ReturnType<typeof fakeBinding>;
  let obj: BpfObject;

  beforeEach(() => {
    calls = [];
    fake = fakeBinding(calls);
    obj = new BpfObject('/x/fake.bpf.o', { binding: fake.binding });
  });

  it('validates the path before opening', () => {
    expectErr(() => new BpfObject('' as string, { binding: fake.binding }), 'EINVAL', 'open');
    expectErr(() => new BpfObject(42 as unknown as string, { binding: fake.binding }), 'EINVAL', 'open');
    assert.equal(calls.filter((c) => c.fn === 'open').length, 1);
  });

  it('names the object and the programs that exist for an unknown program', () => {
    expectErr(() => obj.attach('nope'), 'ENOENT', 'attach:nope', /object fake has no program 'nope' \(programs: handle_exit\)/);
    expectErr(() => obj.setAutoload('nope', false), 'ENOENT', 'setAutoload:nope');
    expectErr(() => obj.setAutoload('handle_exit', 1 as unknown as boolean), 'EINVAL', 'setAutoload');
    obj.attach('handle_exit');
    assert.deepEqual(calls.at(-1), { fn: 'attach', args: ['handle_exit'] });
  });

  it('checks globals by name and size', () => {
    expectErr(() => obj.setGlobal('nope', Buffer.alloc(4)), 'ENOENT', 'setGlobal:nope', /globals: target_tgid/);
    expectErr(() => obj.setGlobal('target_tgid', Buffer.alloc(8)), 'EINVAL', 'setGlobal:target_tgid', /must be 4 bytes, got 8/);
    expectErr(() => obj.setGlobal('target_tgid', 'abcd' as unknown as Buffer), 'EINVAL', 'setGlobal:target_tgid');
    assert.equal(calls.filter((c) => c.fn === 'setGlobal').length, 0);
    obj.setGlobal('target_tgid', Buffer.alloc(4));
    assert.equal(calls.at(-1)!.fn, 'setGlobal');
  });

  it('validates uprobe options', () => {
    expectErr(() => obj.attachUprobe('handle_exit', {} as UprobeOptions), 'EINVAL', 'attach:handle_exit');
    expectErr(() => obj.attachUprobe('handle_exit', { binaryPath: '/bin/true' }), 'EINVAL', 'attach:handle_exit', /funcName or opts.offset/);
    expectErr(() => obj.attachUprobe('handle_exit', { binaryPath: '/bin/true', funcName: 'f', pid: 1.5 }), 'EINVAL', 'attach:handle_exit');
    obj.attachUprobe('handle_exit', { binaryPath: '/bin/true', funcName: 'main', retprobe: true });
    assert.equal(calls.at(-1)!.fn, 'attachUprobe');
  });

  it('validates uprobe_multi options and passes the kernel\'s attach type from its BTF', () => {
    expectErr(() => obj.attachUprobeMulti('handle_exit', { binaryPath: '/bin/true', offsets: [] }), 'EINVAL', 'attach:handle_exit', /at least one offset/);
    expectErr(() => obj.attachUprobeMulti('handle_exit', { binaryPath: '/bin/true', offsets: [-1] }), 'EINVAL', 'attach:handle_exit');
    expectErr(() => obj.attachUprobeMulti('nope', { binaryPath: '/bin/true', offsets: [16] }), 'ENOENT', 'attachUprobeMulti:nope');
    obj.attachUprobeMulti('handle_exit', { binaryPath: '/bin/true', offsets: [16, 32], retprobe: true });
    assert.deepEqual(calls.at(-1), { fn: 'attachUprobeMulti', args: ['handle_exit', { binaryPath: '/bin/true', offsets: [16, 32], retprobe: true, attachType: 48 }] });
    expectErr(() => obj.setExpectedAttachType('handle_exit', -1), 'EINVAL', 'setExpectedAttachType:handle_exit');
  });

  it('detaches several programs in one call, after checking every name', () => {
    expectErr(() => obj.detachAll(['handle_exit', 'nope']), 'ENOENT', 'detachAll:nope');
    assert.notEqual(calls.at(-1)!.fn, 'detachAll', 'nothing detached when a name is wrong');
    assert.equal(obj.detachAll(['handle_exit']), 1);
    assert.deepEqual(calls.at(-1), { fn: 'detachAll', args: [['handle_exit']] });
  });

  it('passes native errors through unchanged', () => {
    assert.throws(() => obj.load(), (e: unknown) => {
      assert.ok(isBpfError(e));
      assert.equal(e.code, 'EACCES');
      assert.equal(e.op, 'load:fake.bpf.o');
      assert.match(e.details, /BEGIN PROG LOAD LOG/);
      return true;
    });
  });

  it('names the maps that exist and caches map wrappers', () => {
    expectErr(() => obj.map('nope'), 'ENOENT', 'map:nope', /maps: counts, pcpu, pcpu_odd, events/);
    assert.equal(obj.map('counts'), obj.map('counts'));
    assert.equal(obj.map('counts').keySize, 4);
    assert.equal(obj.map('counts').fd, 42);
  });

  it('checks key and value sizes against the map', () => {
    const m = obj.map('counts');
    expectErr(() => m.lookup(Buffer.alloc(3)), 'EINVAL', 'lookup:counts', /key of fake\/counts must be 4 bytes, got 3/);
    expectErr(() => m.update(Buffer.alloc(4), Buffer.alloc(4)), 'EINVAL', 'update:counts', /must be 8 bytes/);
    expectErr(() => m.update(Buffer.alloc(4), Buffer.alloc(8), -1), 'EINVAL', 'update:counts');
    expectErr(() => m.delete(new Uint8Array(4) as Buffer), 'EINVAL', 'delete:counts');
    expectErr(() => m.lookupPerCpu(Buffer.alloc(4)), 'EINVAL', 'lookupPerCpu:counts', /not a per-CPU map/);
    expectErr(() => m.setMaxEntries(0), 'EINVAL', 'setMaxEntries:counts');
    assert.equal(calls.filter((c) => ['lookup', 'update', 'delete', 'lookupPerCpu'].includes(c.fn)).length, 0);
    m.update(Buffer.alloc(4), Buffer.alloc(8), 1);
    assert.deepEqual(calls.at(-1)!.args[2], 1);
  });

  it('accepts per-CPU values of valueSize or stride × CPUs, and refuses summing odd sizes', () => {
    const m = obj.map('pcpu');
    m.update(Buffer.alloc(4), Buffer.alloc(8));
    m.update(Buffer.alloc(4), Buffer.alloc(16)); // 2 fake CPUs
    expectErr(() => m.update(Buffer.alloc(4), Buffer.alloc(12)), 'EINVAL', 'update:pcpu', /8 bytes \(every CPU\) or 16 bytes/);
    const odd = obj.map('pcpu_odd');
    expectErr(() => odd.lookup(Buffer.alloc(4)), 'EINVAL', 'lookup:pcpu_odd', /use lookupPerCpu/);
    odd.update(Buffer.alloc(4), Buffer.alloc(32)); // roundup(12, 8) = 16 × 2 CPUs
    odd.lookupPerCpu(Buffer.alloc(4));
  });

  it('creates ring readers only on ringbuf maps, with validated options and defaults', () => {
    expectErr(() => new RingReader(obj.map('counts'), () => {}), 'EINVAL', 'ringReader:counts', /is a hash, not a ringbuf/);
    expectErr(() => new RingReader({} as never, () => {}), 'EINVAL', /^ringReader/);
    expectErr(() => new RingReader(obj.map('events'), 'x' as unknown as BatchCallback), 'EINVAL', 'ringReader:events');
    expectErr(() => new RingReader(obj.map('events'), () => {}, { intervalMs: 0 }), 'EINVAL', 'ringReader:events');
    expectErr(() => new RingReader(obj.map('events'), () => {}, { maxQueuedBatches: 1.5 }), 'EINVAL', 'ringReader:events');
    const r = new RingReader(obj.map('events'), () => {});
    assert.deepEqual(fake.readers[0]!.opts, { intervalMs: 5, maxQueuedBatches: 64, maxBatchBytes: 1 << 20 });
    r.close();
  });

  it('runs no callback after close(), even for a batch already queued; close is idempotent', () => {
    let n = 0;
    const r = new RingReader(obj.map('events'), () => { n++; });
    const native = fake.readers[0]!;
    native.cb(Buffer.alloc(8), 1);
    assert.equal(n, 1);
    r.close();
    r.close();
    native.cb(Buffer.alloc(8), 1);
    assert.equal(n, 1);
    assert.equal(calls.filter((c) => c.fn === 'readerClose').length, 1);
    assert.equal(r.closed, true);
  });

  it('closes ring readers when the object closes', () => {
    const r = new RingReader(obj.map('events'), () => {});
    obj.close();
    assert.equal(r.closed, true);
    assert.equal(fake.readers[0]!.closed, true);
    assert.deepEqual(calls.slice(-2).map((c) => c.fn), ['readerClose', 'close']);
  });

  it('uses an injected global binding through setBinding', () => {
    setBinding(fake.binding);
    try {
      assert.equal(getBinding(), fake.binding);
      assert.equal(probeProgType('tracepoint'), true);
      assert.equal(btfStruct(null, 'x')!.size, 8);
      expectErr(() => btfStruct(3 as unknown as string, 'x'), 'EINVAL', 'btfStruct');
      expectErr(() => probeProgType('' as string), 'EINVAL', 'probeProgType');
      const o = new BpfObject('/y.bpf.o');
      assert.equal(o.name, 'fake');
    } finally {
      setBinding(undefined);
    }
  });
});

describe('forEachRecord', () => {
  function frame(payloads: Buffer[]): Buffer {
    const parts: Buffer[] = [];
    for (const p of payloads) {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(p.length);
      const padded = Buffer.alloc((4 + p.length + 7) & ~7);
      h.copy(padded, 0);
      p.copy(padded, 4);
      parts.push(padded);
    }
    return Buffer.concat(parts);
  }

  it('walks [u32 length][payload][pad to 8] records', () => {
    const payloads = [Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), Buffer.alloc(0), Buffer.from('a'),
      Buffer.alloc(37, 0xab), Buffer.alloc(4, 7)];
    const batch = frame(payloads);
    const seen: Array<[number, number, number]> = [];
    const walked = forEachRecord(batch, payloads.length, (view, off, len) => {
      seen.push([off, len, len > 0 ? view.getUint8(off) : -1]);
    });
    assert.equal(walked, batch.length);
    assert.equal(RECORD_HEADER_BYTES, 4);
    assert.deepEqual(seen, [[4, 12, 1], [20, 0, -1], [28, 1, 97], [36, 37, 0xab], [84, 4, 7]]);
    for (const [off] of seen) assert.equal((off - 4) % 8, 0);
  });

  it('works on a Buffer that is a slice of a larger ArrayBuffer', () => {
    const big = Buffer.alloc(64 + 16);
    const inner = frame([Buffer.from([9, 9, 9])]);
    inner.copy(big, 16);
    const slice = big.subarray(16, 16 + inner.length);
    forEachRecord(slice, 1, (view, off, len) => {
      assert.equal(off, 4);
      assert.equal(len, 3);
      assert.equal(view.getUint8(off + 2), 9);
    });
  });

  it('throws on truncated batches instead of reading out of bounds', () => {
    const batch = frame([Buffer.alloc(16, 1)]);
    expectErr(() => forEachRecord(batch, 2, () => {}), 'EINVAL', 'forEachRecord', /truncated at record 1/);
    const bad = Buffer.from(batch);
    bad.writeUInt32LE(1000, 0);
    expectErr(() => forEachRecord(bad, 1, () => {}), 'EINVAL', 'forEachRecord', /overruns/);
  });
});
