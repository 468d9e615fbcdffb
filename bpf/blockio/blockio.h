/* Layouts shared between blockio.bpf.c and src/receivers/blockio (offsets are generated from
 * this object's BTF into blockio.layout.ts; never retyped by hand). */
#ifndef KOTEL_BLOCKIO_H
#define KOTEL_BLOCKIO_H

#include "kotel_event.h"
#include "kotel_hist.h"

/* Slots of the per-CPU `block_stats` array (receiver-specific; `stats` keeps the common ones). */
enum blockio_stat {
	BLOCKIO_STAT_ISSUED = 0,          /* requests seen at issue */
	BLOCKIO_STAT_COMPLETED = 1,       /* completions matched to an issue: aggregated */
	BLOCKIO_STAT_UNMATCHED = 2,       /* completions without an issue (issued before attach, or evicted) */
	BLOCKIO_STAT_CGROUP_OVERFLOW = 3, /* requests attributed to cgroup 0 because max_cgroups was reached */
	BLOCKIO_STAT_EVICTED = 4,         /* in-flight entries evicted by a newer request (completion not timed) */
	BLOCKIO_STAT_COUNT = 5,
};

#define BLOCKIO_INFLIGHT_BITS 14   /* 16384 slots, 2-way: requests in flight on all devices */

/* In flight, in the `inflight` array (bpf/include/kotel_inflight.h): id is the request pointer
 * (tp_btf/raw_tp) or a hash of (dev, sector) (classic tracepoint); 0 = free slot. */
struct blockio_start {
	__u64 id;
	__u64 insert_ns;   /* 0 when the request was dispatched without queueing (or insert is off) */
	__u64 issue_ns;
	__u64 cgroup_id;
	__u32 op;          /* cmd_flags & REQ_OP_MASK */
	__u32 dev;         /* kernel dev_t of the partition (or disk) */
};

/* One series: device (kernel dev_t encoding), operation, submitting cgroup (0: not attributed). */
struct blockio_key {
	__u32 dev;
	__u32 op;
	__u64 cgroup_id;
};

/* Exact aggregates of one series; latency = issue → complete, in nanoseconds. Per-CPU (no
 * atomics on the hot path): user space sums count/sum/bytes/buckets over CPUs and takes the
 * max of max and of min_inv. */
struct blockio_value {
	__u64 count;
	__u64 sum;          /* ns */
	__u64 max;          /* ns */
	__u64 min_inv;      /* ~min ns (max of ~v) */
	__u64 bytes;
	__u64 queued;       /* requests with an insert before issue */
	__u64 queue_sum;    /* ns from insert to issue, over `queued` requests */
	__u64 buckets[KOTEL_HIST_SLOTS];
};

struct blockio_err_key {
	__u32 dev;
	__u32 op;
	__s32 err;          /* blk_status_t (tp_btf/raw_tp) or negative errno (tracepoint) */
	__u32 _pad;
};

#endif
