// Decodes tcp_event records (layout generated from the BPF object's BTF) and names connect failures.
import { KotelEventHeader } from '../../bpf/kotel-event.layout.ts';
import { formatAddress, readCString } from '../../bpf/records.ts';
import { TcpEvent } from './tcp.layout.ts';

export interface TcpRecord {
  kind: number; tsNs: bigint; tgid: number; family: number; lport: number; dport: number; direction: number; first: boolean; established: boolean;
  err: number; retrans: number; rstSent: number; rstRecv: number; connectNs: number; durationNs: number; sent: number; recv: number;
  cgroupId: bigint; peer: string; comm: string;
}

const F = TcpEvent.fields;

export function decodeTcp(buf: Buffer, o: number, view: DataView): TcpRecord {
  const family = view.getUint16(o + F.family.offset, true);
  return {
    kind: view.getUint16(o, true),
    tsNs: view.getBigUint64(o + KotelEventHeader.fields.ts_ns.offset, true),
    tgid: view.getUint32(o + F.tgid.offset, true),
    family,
    lport: view.getUint16(o + F.lport.offset, true),
    dport: view.getUint16(o + F.dport.offset, true),
    direction: view.getUint8(o + F.direction.offset),
    first: view.getUint8(o + F.first.offset) !== 0,
    established: view.getUint8(o + F.established.offset) !== 0,
    err: view.getInt32(o + F.err.offset, true),
    retrans: view.getUint32(o + F.retrans.offset, true),
    rstSent: view.getUint32(o + F.rst_sent.offset, true),
    rstRecv: view.getUint32(o + F.rst_recv.offset, true),
    connectNs: Number(view.getBigUint64(o + F.connect_ns.offset, true)),
    durationNs: Number(view.getBigUint64(o + F.duration_ns.offset, true)),
    sent: Number(view.getBigUint64(o + F.sent.offset, true)),
    recv: Number(view.getBigUint64(o + F.recv.offset, true)),
    cgroupId: view.getBigUint64(o + F.cgroup_id.offset, true),
    peer: formatAddress(family, buf, o + F.daddr.offset) ?? '',
    comm: readCString(buf, o + F.comm.offset, F.comm.size),
  };
}

/** error.type of a connect that never reached ESTABLISHED, from sk_err at close. */
export function connectFailureReason(err: number): string {
  switch (Math.abs(err)) {
    case 111: return 'refused';      // ECONNREFUSED: RST in SYN_SENT
    case 110: return 'timeout';      // ETIMEDOUT: SYN retries exhausted
    case 104: return 'reset';        // ECONNRESET
    case 113: case 101: return 'unreachable'; // EHOSTUNREACH, ENETUNREACH (ICMP)
    case 0: return 'aborted';        // closed by the application before the handshake finished
    default: return 'other';
  }
}
