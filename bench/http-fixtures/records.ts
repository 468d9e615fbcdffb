// Synthetic http_event records in the kernel's layout, for the span-path benchmarks: 64 distinct
// server exchanges (nginx-like heads, distinct ids and paths) in one Buffer.
import { HttpEvent, HttpRole } from '../../src/receivers/http/http.layout.ts';

const F = HttpEvent.fields;
export const DISTINCT_RECORDS = 64;

export function syntheticRecords(): { records: Buffer; view: DataView } {
  const records = Buffer.alloc(HttpEvent.size * DISTINCT_RECORDS);
  for (let i = 0; i < DISTINCT_RECORDS; i++) {
    const o = i * HttpEvent.size;
    records.writeUInt16LE(48, o);
    records.writeBigUInt64LE(1_000_000n, o + F.start_ns.offset);
    records.writeBigUInt64LE(1_250_000n, o + F.end_ns.offset);
    records.fill(i + 1, o + F.trace_id.offset, o + F.trace_id.offset + 16);
    records.fill(i + 7, o + F.span_id.offset, o + F.span_id.offset + 8);
    records.writeUInt16LE(2, o + F.family.offset);
    records.set([127, 0, 0, 1], o + F.laddr.offset);
    records.set([127, 0, 0, 1], o + F.raddr.offset);
    records.writeUInt16LE(8080, o + F.lport.offset);
    records.writeUInt16LE(40000 + i, o + F.rport.offset);
    const req = `GET /users/${i}/orders?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n`;
    const resp = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 1024\r\n\r\n';
    records.write(req, o + F.req_head.offset, 'latin1');
    records.writeUInt16LE(req.length, o + F.req_head_len.offset);
    records.write(resp, o + F.resp_head.offset, 'latin1');
    records.writeUInt16LE(resp.length, o + F.resp_head_len.offset);
    records.writeUInt8(HttpRole.HTTP_ROLE_SERVER, o + F.role.offset);
    records.write('nginx', o + F.comm.offset, 'latin1');
  }
  return { records, view: new DataView(records.buffer, records.byteOffset, records.length) };
}
