/* Layouts shared between iouring.bpf.c and src/receivers/iouring (offsets are generated from
 * this object's BTF into iouring.layout.ts; never retyped by hand). */
#ifndef KOTEL_IOURING_H
#define KOTEL_IOURING_H

#include "kotel_event.h"
#include "kotel_hist.h"

#define IOURING_CQE_F_MORE (1U << 1)   /* IORING_CQE_F_MORE: more completions will follow */
#define IOURING_CQE_F_NOTIF (1U << 3)  /* IORING_CQE_F_NOTIF: a zero-copy send's buffer notification */

/* Slots of the per-CPU `uring_stats` array. */
enum iouring_stat {
	IOURING_STAT_SUBMITTED = 0,   /* start entries created or replaced */
	IOURING_STAT_COMPLETED = 1,   /* completions that ended a request matched to its submit (timed) */
	IOURING_STAT_AUX = 2,         /* CQEs posted without a request: multishot intermediates (F_MORE) and others */
	IOURING_STAT_UNMATCHED = 3,   /* completions without a start entry (submitted before attach, aged out) */
	IOURING_STAT_REPLACED = 4,    /* a submit found its req pointer still in flight: the old request's completion was missed */
	IOURING_STAT_EVICTED = 5,     /* in flight too long: evicted by a newer request (2-way LRU), never timed */
	IOURING_STAT_REFUSED = 6,     /* requests refused at submission (io_uring_req_failed) whose CQE was matched */
	IOURING_STAT_RECLAIMED = 7,   /* in-flight entries of requests whose CQE overflowed, reclaimed at reuse */
	IOURING_STAT_NOTIF = 8,       /* zero-copy send notifications (F_NOTIF: another internal request) */
	IOURING_STAT_COUNT = 9,
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
	__u64 ts_ns;        /* submit (or refusal, for a refused request) */
	__u32 tgid;
	__u16 opcode;
	__u16 refused;      /* refused at submission: its CQE is not a timed completion */
};

/* Per process (the `procs` hash): what happens outside one request's submit → complete. */
struct iouring_proc {
	__u64 cq_overflows;       /* CQEs that did not fit the CQ ring (io_uring_cqe_overflow) */
	__u64 reclaimed;          /* overflowed requests' in-flight entries reclaimed (<= cq_overflows) */
	__u64 multishot_cqes;     /* CQEs with F_MORE posted without a request: multishot intermediates */
	__u64 notif_cqes;         /* zero-copy send notifications (F_NOTIF) */
	__u64 other_aux_cqes;     /* other CQEs posted without a request (e.g. IORING_OP_MSG_RING targets) */
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
