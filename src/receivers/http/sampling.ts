// The sampling decision for an exchange record, before any span object exists. The parent's
// sampled flag is known when the request head carried a traceparent within the captured bytes:
// a server's incoming one (remote parent) or the one a client sent itself (its own span's flag).
// A kernel-made parent (client inside a server request) carries no flag in the record: it is
// decided as a root on the same trace id, which agrees with the parent whenever the parent was
// itself decided by the ratio (see README, sampling).
import { PARENT_NONE, PARENT_NOT_SAMPLED, PARENT_SAMPLED, PARENT_UNKNOWN, type ParentFlag, type SpanSampler } from '../../pipeline/sampler.ts';
import type { HttpRecord } from './decode.ts';
import { HttpEvent, HttpFlag } from './http.layout.ts';
import { headerValue, parseTraceparent } from './parse.ts';

const TRACE_ID = HttpEvent.fields.trace_id.offset;

export function parentFlagOf(rec: HttpRecord): ParentFlag {
  const flags = rec.flags;
  if (flags & (HttpFlag.HTTP_F_REMOTE_PARENT | HttpFlag.HTTP_F_OWN_TRACEPARENT)) {
    const tp = parseTraceparent(headerValue(rec.reqHead, 'traceparent'));
    if (!tp) return PARENT_UNKNOWN;
    return tp.flags & 1 ? PARENT_SAMPLED : PARENT_NOT_SAMPLED;
  }
  return flags & HttpFlag.HTTP_F_KERNEL_PARENT ? PARENT_UNKNOWN : PARENT_NONE;
}

export function sampleExchange(rec: HttpRecord, sampler: SpanSampler): boolean {
  if (sampler.keepsAll) return true;
  return sampler.sample(rec.view, rec.o + TRACE_ID, sampler.parentBased ? parentFlagOf(rec) : PARENT_NONE);
}
