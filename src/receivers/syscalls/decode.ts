// Decodes syscall_event records (layout generated from the BPF object's BTF).
import { SyscallEvent } from './syscalls.layout.ts';
import { KotelEventHeader } from '../../bpf/kotel-event.layout.ts';
import { readCString, formatAddress } from '../../bpf/records.ts';

const F = SyscallEvent.fields;

export interface SyscallFailure {
  tsNs: bigint;         // CLOCK_MONOTONIC
  tgid: number;
  tid: number;
  uid: number;
  nr: number;
  errno: number;
  argKind: number;
  category: number;
  cgroupId: bigint;
  coveredFrom: number;  // exclusive
  coveredTo: number;    // inclusive
  argValue: bigint;
  address: string | undefined;
  port: number;
  comm: string;
  path: string;
  /** The server request the thread was serving when it failed (hex), if exactly one. */
  traceId?: string;
  spanId?: string;
}

export const SYSCALL_EVENT_SIZE = SyscallEvent.size;

export function decodeSyscallFailure(buf: Buffer, offset: number, view: DataView): SyscallFailure {
  const family = view.getUint16(offset + F.family.offset, true);
  return {
    tsNs: view.getBigUint64(offset + F.hdr.offset + KotelEventHeader.fields.ts_ns.offset, true),
    tgid: view.getUint32(offset + F.tgid.offset, true),
    tid: view.getUint32(offset + F.tid.offset, true),
    uid: view.getUint32(offset + F.uid.offset, true),
    nr: view.getUint32(offset + F.nr.offset, true),
    errno: view.getUint32(offset + F.err.offset, true),
    argKind: view.getUint8(offset + F.arg_kind.offset),
    category: view.getUint8(offset + F.category.offset),
    cgroupId: view.getBigUint64(offset + F.cgroup_id.offset, true),
    coveredFrom: Number(view.getBigUint64(offset + F.covered_from.offset, true)),
    coveredTo: Number(view.getBigUint64(offset + F.covered_to.offset, true)),
    argValue: view.getBigUint64(offset + F.arg_value.offset, true),
    address: formatAddress(family, buf, offset + F.addr.offset),
    port: view.getUint16(offset + F.port.offset, true),
    comm: readCString(buf, offset + F.comm.offset, F.comm.size),
    path: readCString(buf, offset + F.path.offset, F.path.size),
    ...requestContext(buf, offset),
  };
}

function requestContext(buf: Buffer, offset: number): { traceId?: string; spanId?: string } {
  const span = buf.subarray(offset + F.span_id.offset, offset + F.span_id.offset + F.span_id.size);
  if (span.every((b) => b === 0)) return {};
  return {
    traceId: buf.toString('hex', offset + F.trace_id.offset, offset + F.trace_id.offset + F.trace_id.size),
    spanId: span.toString('hex'),
  };
}
