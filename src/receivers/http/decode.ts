// Decodes http_event records (layout generated from the BPF object's BTF). Heads stay raw
// (latin1 strings) until the mapping needs them.
import { HttpEvent } from './http.layout.ts';
import { formatAddress, readCString } from '../../bpf/records.ts';

const F = HttpEvent.fields;

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

function hex(buf: Buffer, offset: number, size: number): string {
  return buf.toString('hex', offset, offset + size);
}

function isZero(buf: Buffer, offset: number, size: number): boolean {
  for (let i = 0; i < size; i++) if (buf[offset + i] !== 0) return false;
  return true;
}

export function decodeHttpExchange(buf: Buffer, o: number, view: DataView): HttpExchange {
  const family = view.getUint16(o + F.family.offset, true);
  const reqLen = Math.min(view.getUint16(o + F.req_head_len.offset, true), F.req_head.size);
  const respLen = Math.min(view.getUint16(o + F.resp_head_len.offset, true), F.resp_head.size);
  return {
    startNs: view.getBigUint64(o + F.start_ns.offset, true),
    endNs: view.getBigUint64(o + F.end_ns.offset, true),
    reqBytes: Number(view.getBigUint64(o + F.req_bytes.offset, true)),
    respBytes: Number(view.getBigUint64(o + F.resp_bytes.offset, true)),
    traceId: hex(buf, o + F.trace_id.offset, 16),
    spanId: hex(buf, o + F.span_id.offset, 8),
    parentId: isZero(buf, o + F.parent_id.offset, 8) ? '' : hex(buf, o + F.parent_id.offset, 8),
    tgid: view.getUint32(o + F.tgid.offset, true),
    tid: view.getUint32(o + F.tid.offset, true),
    family,
    localAddress: formatAddress(family, buf, o + F.laddr.offset),
    localPort: view.getUint16(o + F.lport.offset, true),
    peerAddress: formatAddress(family, buf, o + F.raddr.offset),
    peerPort: view.getUint16(o + F.rport.offset, true),
    status: view.getUint16(o + F.status.offset, true),
    reqHead: buf.toString('latin1', o + F.req_head.offset, o + F.req_head.offset + reqLen),
    respHead: buf.toString('latin1', o + F.resp_head.offset, o + F.resp_head.offset + respLen),
    reqHdrEnd: view.getUint16(o + F.req_hdr_end.offset, true),
    respHdrEnd: view.getUint16(o + F.resp_hdr_end.offset, true),
    role: view.getUint8(o + F.role.offset),
    flags: view.getUint8(o + F.flags.offset),
    comm: readCString(buf, o + F.comm.offset, F.comm.size),
  };
}
