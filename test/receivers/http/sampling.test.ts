import assert from 'node:assert/strict';
import { PARENT_NONE, PARENT_NOT_SAMPLED, PARENT_SAMPLED, PARENT_UNKNOWN, SpanSampler } from '../../../src/pipeline/sampler.ts';
import { HttpRecord } from '../../../src/receivers/http/decode.ts';
import { HttpEvent, HttpFlag, HttpRole } from '../../../src/receivers/http/http.layout.ts';
import { parentFlagOf, sampleExchange } from '../../../src/receivers/http/sampling.ts';

const F = HttpEvent.fields;

function record(head: string, flags: number, traceByte = 0x11): HttpRecord {
  const buf = Buffer.alloc(HttpEvent.size);
  buf.fill(traceByte, F.trace_id.offset, F.trace_id.offset + 16);
  buf.write(head, F.req_head.offset, 'latin1');
  buf.writeUInt16LE(Math.min(head.length, F.req_head.size), F.req_head_len.offset);
  buf.writeUInt8(flags, F.flags.offset);
  buf.writeUInt8(HttpRole.HTTP_ROLE_SERVER, F.role.offset);
  return new HttpRecord(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), 0);
}

const tp = (flags: string) => `GET / HTTP/1.1\r\nHost: x\r\nTraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}\r\n\r\n`;

describe('receivers/http: sampling decision from the record', () => {
  it('the parent flag comes from the traceparent in the captured head (server and own client traceparent)', () => {
    assert.equal(parentFlagOf(record(tp('01'), HttpFlag.HTTP_F_REMOTE_PARENT)), PARENT_SAMPLED);
    assert.equal(parentFlagOf(record(tp('00'), HttpFlag.HTTP_F_REMOTE_PARENT)), PARENT_NOT_SAMPLED);
    assert.equal(parentFlagOf(record(tp('03'), HttpFlag.HTTP_F_OWN_TRACEPARENT)), PARENT_SAMPLED);
    // The kernel saw a traceparent beyond the captured bytes: the flag is unknown.
    const long = `GET / HTTP/1.1\r\nCookie: ${'c'.repeat(300)}\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n\r\n`;
    assert.equal(parentFlagOf(record(long, HttpFlag.HTTP_F_REMOTE_PARENT)), PARENT_UNKNOWN);
    assert.equal(parentFlagOf(record('GET / HTTP/1.1\r\n\r\n', HttpFlag.HTTP_F_KERNEL_PARENT)), PARENT_UNKNOWN);
    assert.equal(parentFlagOf(record(tp('00'), 0)), PARENT_NONE, 'a traceparent the kernel did not use is no parent');
  });

  it('sampleExchange: parent-based samplers honour a remote not-sampled parent; ratio 0 and 1', () => {
    const pb = new SpanSampler({ name: 'parentbased_always_on', ratio: 1 });
    assert.equal(sampleExchange(record(tp('00'), HttpFlag.HTTP_F_REMOTE_PARENT), pb), false);
    assert.equal(sampleExchange(record(tp('01'), HttpFlag.HTTP_F_REMOTE_PARENT), pb), true);
    assert.equal(sampleExchange(record('GET / HTTP/1.1\r\n\r\n', 0), pb), true);
    assert.equal(sampleExchange(record(tp('00'), HttpFlag.HTTP_F_REMOTE_PARENT), new SpanSampler({ name: 'always_on', ratio: 1 })), true);
    assert.equal(sampleExchange(record('GET / HTTP/1.1\r\n\r\n', 0), new SpanSampler({ name: 'traceidratio', ratio: 0 })), false);
    assert.equal(sampleExchange(record('GET / HTTP/1.1\r\n\r\n', 0), new SpanSampler({ name: 'traceidratio', ratio: 1 })), true);
  });
});
