// Names for what the blockio kernel side counts: REQ_OP_* operations and blk_status_t codes.
import { errnoName } from '../../semconv/errno.ts';

/** REQ_OP_* (include/linux/blk_types.h); stable since 4.10. */
const OPS: Record<number, string> = {
  0: 'read', 1: 'write', 2: 'flush', 3: 'discard', 5: 'secure_erase', 7: 'zone_append', 9: 'write_zeroes',
  10: 'zone_open', 11: 'zone_close', 12: 'zone_finish', 13: 'zone_reset', 15: 'zone_reset_all', 34: 'drv_in', 35: 'drv_out',
};
export const REQ_OP_READ = 0;
export const REQ_OP_WRITE = 1;

export function blockOpName(op: number): string {
  return OPS[op] ?? 'other';
}

/** disk.io.direction for read and write; undefined for every other operation (never folded in). */
export function ioDirection(op: number): 'read' | 'write' | undefined {
  return op === REQ_OP_READ ? 'read' : op === REQ_OP_WRITE ? 'write' : undefined;
}

/** blk_status_t → the errno the block layer turns it into (blk_errors[] in block/blk-core.c). */
const BLK_STATUS_ERRNO: Record<number, number> = {
  1: 95 /* EOPNOTSUPP */, 2: 110 /* ETIMEDOUT */, 3: 28 /* ENOSPC */, 4: 67 /* ENOLINK */, 5: 121 /* EREMOTEIO */,
  6: 52 /* EBADE */, 7: 61 /* ENODATA */, 8: 84 /* EILSEQ */, 9: 12 /* ENOMEM */, 10: 5 /* EIO */, 11: 78 /* EREMCHG */,
  12: 11 /* EAGAIN */, 13: 16 /* EBUSY */, 14: 109 /* ETOOMANYREFS */, 15: 75 /* EOVERFLOW */, 16: 19 /* ENODEV */,
  17: 62 /* ETIME */, 19: 22 /* EINVAL */,
};

/** error.type of a completion: `err` is a blk_status_t (request-pointer hooks) or a negative errno (classic tracepoint). */
export function blockErrorType(err: number, isStatus: boolean): string {
  if (!isStatus) return errnoName(-err);
  const errno = BLK_STATUS_ERRNO[err];
  return errno ? errnoName(errno) : `blk_status_${err}`;
}
