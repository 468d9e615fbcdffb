// A small protobuf writer for kotel's OTLP serializers: one growing byte array, one pass. A nested
// message reserves room for its length and moves its bytes only when the length needs another size.
// Plain Uint8Arrays everywhere (never a Buffer subclass): byte loops stay monomorphic and fast.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

const utf8 = new TextEncoder();

export class ProtobufWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** What was written (a view of the writer's array: write nothing more after this). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Unsigned varint below 2^32. */
  varint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A varint of any safe integer (negative: two's complement on 64 bits, as int64 wants). */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) { this.varint(v); return; }
    let lo: number, hi: number;
    if (v >= 0) { lo = v >>> 0; hi = Math.floor(v / 4294967296) >>> 0; } else {
      const a = -v;
      lo = a >>> 0; hi = Math.floor(a / 4294967296) >>> 0;
      lo = ~lo >>> 0; hi = ~hi >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    this.ensure(10);
    const b = this.buf;
    while (hi > 0 || lo > 0x7f) {
      b[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[this.pos++] = lo;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** n raw bytes of src from offset (ids, cached messages, fixed64 values stored little-endian). */
  raw(src: Uint8Array, offset: number, n: number): void {
    this.ensure(n);
    const b = this.buf;
    const p = this.pos;
    if (n > 32) b.set(src.subarray(offset, offset + n), p);
    else for (let i = 0; i < n; i++) b[p + i] = src[offset + i];
    this.pos = p + n;
  }

  /** All of src (a cached encoding). */
  all(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Length-delimited bytes. */
  bytes(src: Uint8Array, offset = 0, n = src.length - offset): void {
    this.varint(n);
    this.raw(src, offset, n);
  }

  /** Length-delimited UTF-8 string; ASCII is copied in JS, anything else by TextEncoder. */
  string(s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 5);
    const b = this.buf;
    const start = this.pos;
    let p = start + varintSize(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) { this.utf8(s); return; }
      b[p++] = c;
    }
    let v = n;
    let q = start;
    while (v > 0x7f) { b[q++] = (v & 0x7f) | 0x80; v >>>= 7; }
    b[q] = v;
    this.pos = p;
  }

  private utf8(s: string): void {
    const bytes = utf8.encode(s);
    this.varint(bytes.length);
    this.all(bytes);
  }

  /** Starts a nested message; `reserve` bytes are kept for its length (its likely varint size). */
  begin(reserve: number): number {
    this.ensure(reserve);
    const at = this.pos;
    this.pos += reserve;
    return at;
  }

  /** Ends the nested message begun at `at`: writes its length, moving the body if the guess was wrong. */
  end(at: number, reserve: number): void {
    const len = this.pos - at - reserve;
    const size = varintSize(len);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    const b = this.buf;
    let v = len;
    let p = at;
    while (v > 0x7f) { b[p++] = (v & 0x7f) | 0x80; v >>>= 7; }
    b[p] = v;
  }
}
