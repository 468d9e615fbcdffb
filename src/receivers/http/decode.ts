// Decodes http_event records (layout generated from the BPF object's BTF) lazily: an HttpRecord
// is a cursor over the batch Buffer and reads a field only when the mapping asks for it, so a
// record costs no object and no string it does not need. Heads stay raw (latin1 strings).
import { HttpEvent } from './http.layout.ts';
import { formatAddress, readCString } from '../../bpf/records.ts';
import { parseResponseHead } from './parse.ts';

const F = HttpEvent.fields;
const REQ_HEAD_MAX = F.req_head.size;
const RESP_HEAD_MAX = F.resp_head.size;

export interface HttpExchange {
  startNs: bigint;      // CLOCK_MONOTONIC
  endNs: bigint;
  reqBytes: number;
  respBytes: number;
  traceId: string;      // hex
  spanId: string;
  parentId: string;     // '' when none
  tgid: number;
  tid: number;
  family: number;
  localAddress: string | undefined;
  localPort: number;
  peerAddress: string | undefined;
  peerPort: number;
  status: number;
  reqHead: string;
  respHead: string;
  reqHdrEnd: number;    // 0: head end not seen
  respHdrEnd: number;
  role: number;
  flags: number;
  comm: string;
}

export const HTTP_EVENT_SIZE = HttpEvent.size;

const AF_INET = 2;
const MAX_V4_NAMES = 4096;
/** IPv4 address strings by address: peers repeat, and a shared string is one less object per span. */
const v4Names = new Map<number, string>();

function address(view: DataView, buf: Buffer, family: number, at: number): string | undefined {
  if (family !== AF_INET) return formatAddress(family, buf, at);
  const key = view.getUint32(at);
  let s = v4Names.get(key);
  if (s === undefined) {
    if (v4Names.size >= MAX_V4_NAMES) v4Names.clear();
    s = formatAddress(family, buf, at)!;
    v4Names.set(key, s);
  }
  return s;
}

function isZero(buf: Buffer, offset: number, size: number): boolean {
  for (let i = 0; i < size; i++) if (buf[offset + i] !== 0) return false;
  return true;
}

/** One record of a batch, read in place; `at()` moves it to the next record (valid until the batch callback returns). */
export class HttpRecord implements HttpExchange {
  buf: Buffer;
  view: DataView;
  /** Offset of the record in buf. */
  o: number;

  constructor(buf: Buffer, view: DataView, o: number) {
    this.buf = buf;
    this.view = view;
    this.o = o;
  }

  at(buf: Buffer, view: DataView, o: number): this {
    this.buf = buf;
    this.view = view;
    this.o = o;
    return this;
  }

  get startNs(): bigint { return this.view.getBigUint64(this.o + F.start_ns.offset, true); }
  get endNs(): bigint { return this.view.getBigUint64(this.o + F.end_ns.offset, true); }
  /** end - start in ns as a double (exact below 2^53 ns ≈ 104 days), without BigInt. */
  get durationNs(): number {
    const v = this.view, o = this.o;
    return (v.getUint32(o + F.end_ns.offset + 4, true) - v.getUint32(o + F.start_ns.offset + 4, true)) * 4294967296
      + (v.getUint32(o + F.end_ns.offset, true) - v.getUint32(o + F.start_ns.offset, true));
  }
  get reqBytes(): number { return Number(this.view.getBigUint64(this.o + F.req_bytes.offset, true)); }
  get respBytes(): number { return Number(this.view.getBigUint64(this.o + F.resp_bytes.offset, true)); }
  get traceId(): string { return this.buf.toString('hex', this.o + F.trace_id.offset, this.o + F.trace_id.offset + 16); }
  get spanId(): string { return this.buf.toString('hex', this.o + F.span_id.offset, this.o + F.span_id.offset + 8); }
  get parentId(): string {
    const at = this.o + F.parent_id.offset;
    return isZero(this.buf, at, 8) ? '' : this.buf.toString('hex', at, at + 8);
  }
  get tgid(): number { return this.view.getUint32(this.o + F.tgid.offset, true); }
  get tid(): number { return this.view.getUint32(this.o + F.tid.offset, true); }
  get family(): number { return this.view.getUint16(this.o + F.family.offset, true); }
  get localAddress(): string | undefined { return address(this.view, this.buf, this.family, this.o + F.laddr.offset); }
  get localPort(): number { return this.view.getUint16(this.o + F.lport.offset, true); }
  get peerAddress(): string | undefined { return address(this.view, this.buf, this.family, this.o + F.raddr.offset); }
  get peerPort(): number { return this.view.getUint16(this.o + F.rport.offset, true); }
  get status(): number { return this.view.getUint16(this.o + F.status.offset, true); }
  /**
   * What of the request head its parsed form depends on (parseRequestHead without the user agent):
   * the request line and the first Host line, each with the character that ends it. Heads that
   * differ only in other headers (a traceparent's random ids) share it. Written into `out` as two
   * byte ranges of buf, [out[0], out[1]) then [out[2], out[3]) (empty when the key is one range),
   * so a cache can hash and compare the bytes without a string.
   */
  reqHeadKeyRanges(out: Int32Array): void {
    // Plain loops over the bytes: Buffer.indexOf is a call into C++ that costs more than the scan.
    const b = this.buf, at = this.o + F.req_head.offset;
    const end = at + Math.min(this.view.getUint16(this.o + F.req_head_len.offset, true), REQ_HEAD_MAX);
    let i = at, sp = -1;
    for (; i + 1 < end && (b[i] !== 13 || b[i + 1] !== 10); i++) if (sp < 0 && b[i] === 32) sp = i;
    out[2] = out[3] = 0;
    out[0] = at;
    // request line cut, or without a space (the method would run into the headers): the whole head
    if (i + 1 >= end || sp < 0) { out[1] = end; return; }
    const eol = i;
    out[1] = eol + 2;
    for (let nl = eol + 1; nl < end; nl++) {
      if (b[nl] !== 10) continue;
      if (nl + 5 >= end || b[nl + 5] !== 58 /* : */ || (b[nl + 1] | 32) !== 104 || (b[nl + 2] | 32) !== 111
        || (b[nl + 3] | 32) !== 115 || (b[nl + 4] | 32) !== 116) continue;   // "host:", any case
      // the value ends where headerValue ends it (the next '\r', else '\n'), terminator included
      let stop = nl + 6;
      while (stop < end && b[stop] !== 13) stop++;
      if (stop === end) for (stop = nl + 6; stop < end && b[stop] !== 10;) stop++;
      if (stop < end) stop++;
      if (nl === eol + 1) out[1] = stop;
      else { out[2] = nl + 1; out[3] = stop; }
      return;
    }
  }
  get reqHead(): string {
    const at = this.o + F.req_head.offset;
    return this.buf.toString('latin1', at, at + Math.min(this.view.getUint16(this.o + F.req_head_len.offset, true), REQ_HEAD_MAX));
  }
  get respHead(): string {
    const at = this.o + F.resp_head.offset;
    return this.buf.toString('latin1', at, at + Math.min(this.view.getUint16(this.o + F.resp_head_len.offset, true), RESP_HEAD_MAX));
  }
  /**
   * The response's status line as parseResponseHead(respHead) gives it, read from the bytes when it
   * has the usual shape ("HTTP/1.x NNN"), so the head needs no string.
   */
  responseLine(): { version: string; status: number } | undefined {
    const b = this.buf, at = this.o + F.resp_head.offset;
    const len = Math.min(this.view.getUint16(this.o + F.resp_head_len.offset, true), RESP_HEAD_MAX);
    if (len >= 12 && b[at] === 72 && b[at + 1] === 84 && b[at + 2] === 84 && b[at + 3] === 80 && b[at + 4] === 47 /* HTTP/ */
      && b[at + 5] === 49 && b[at + 6] === 46 && (b[at + 7] === 49 || b[at + 7] === 48) && b[at + 8] === 32 /* 1.x SP */) {
      const d0 = b[at + 9] - 48, d1 = b[at + 10] - 48, d2 = b[at + 11] - 48;
      if (d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) {
        return { version: b[at + 7] === 49 ? '1.1' : '1.0', status: d0 * 100 + d1 * 10 + d2 };
      }
    }
    return len ? parseResponseHead(this.respHead) : undefined;
  }
  get reqHdrEnd(): number { return this.view.getUint16(this.o + F.req_hdr_end.offset, true); }
  get respHdrEnd(): number { return this.view.getUint16(this.o + F.resp_hdr_end.offset, true); }
  get role(): number { return this.view.getUint8(this.o + F.role.offset); }
  get flags(): number { return this.view.getUint8(this.o + F.flags.offset); }
  get comm(): string { return readCString(this.buf, this.o + F.comm.offset, F.comm.size); }
}

/** The record at offset o (a new cursor; the receiver reuses one with `at()`). */
export function decodeHttpExchange(buf: Buffer, o: number, view: DataView): HttpRecord {
  return new HttpRecord(buf, view, o);
}
