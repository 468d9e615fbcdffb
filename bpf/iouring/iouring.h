/* Layouts shared between iouring.bpf.c and src/receivers/iouring (offsets are generated from
 * this object's BTF into iouring.layout.ts; never retyped by hand). */
#ifndef KOTEL_IOURING_H
#define KOTEL_IOURING_H

#include "kotel_event.h"
#include "kotel_hist.h"

#define IOURING_CQE_F_MORE (1U << 1)  /* IORING_CQE_F_MORE: more completions will follow */

/* Slots of the per-CPU `uring_stats` array. */
enum iouring_stat {
	IOURING_STAT_SUBMITTED = 0,   /* start entries created or replaced */
	IOURING_STAT_COMPLETED = 1,   /* final completions matched to a submit (entry removed) */
	IOURING_STAT_MORE = 2,        /* intermediate completions of multishot requests (entry kept) */
	IOURING_STAT_UNMATCHED = 3,   /* completions without a start entry (submitted before attach, aged out) */
	IOURING_STAT_REPLACED = 4,    /* a submit found its req pointer still in flight: the old request's completion was missed */
	IOURING_STAT_EVICTED = 5,     /* in flight too long: evicted by a newer request (2-way LRU), never timed */
	IOURING_STAT_COUNT = 6,
};

enum iouring_err_kind {
	IOURING_ERR_COMPLETION = 0,   /* cqe->res < 0 */
	IOURING_ERR_REQ_FAILED = 1,   /* io_uring:io_uring_req_failed */
};

#define IOURING_INFLIGHT_BITS 14   /* 16384 slots, 2-way set associative */

/* In flight, in the `inflight` array (bpf/include/kotel_inflight.h), id = the struct io_kiocb
 * pointer (0 = free): who submitted, and when. */
struct iouring_start {
	__u64 id;
	__u64 ts_ns;        /* submit, or the previous completion of a multishot request */
	__u32 tgid;
	__u32 opcode;
};

/* One series: process, opcode. */
struct iouring_key {
	__u32 tgid;
	__u32 opcode;
};

/* Per-CPU (no atomics on the hot path): user space sums count/sum/buckets/async_work over CPUs
 * and takes the max of max and of min_inv; comm is written once, on one CPU, at creation. */
struct iouring_value {
	__u64 count;
	__u64 sum;          /* ns */
	__u64 max;
	__u64 min_inv;      /* ~min */
	__u64 async_work;   /* punted to io-wq (io_uring_queue_async_work) */
	char comm[16];      /* the submitting task's, when the series was created (names exited processes) */
	__u64 buckets[KOTEL_HIST_SLOTS];
};

struct iouring_err_key {
	__u32 tgid;
	__u32 opcode;
	__s32 err;          /* negative errno */
	__u32 kind;         /* enum iouring_err_kind */
};

#endif
