// SPDX-License-Identifier: GPL-2.0
/* io_uring request latency: submit → complete correlated by the request pointer (user_data is
 * the application's and may repeat), aggregated in the kernel per (process, opcode) into exact
 * histograms; failures, CQ overflows and io-wq punts counted. No per-event user-space work. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "iouring.h"
#include "kotel_stats.h"
#include "kotel_inflight.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 sub_bits = 2;
const volatile __u32 min_exp = 10;
const volatile __u32 nbounds = 108;
const volatile __u32 self_tgid = 0;

/* Requests that never complete are evicted by newer ones (2-way LRU) and counted. */
/* In-flight slots − 1: user space sizes the `inflight` map (limits.in_flight) and sets this. */
const volatile __u32 inflight_mask = (1U << IOURING_INFLIGHT_BITS) - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << IOURING_INFLIGHT_BITS);
	__type(key, __u32);
	__type(value, struct iouring_start);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct iouring_key);
	__type(value, struct iouring_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);   /* series are created rarely: allocate on insert */
} latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__type(key, struct iouring_err_key);
	__type(value, __u64);
} errors SEC(".maps");

/* Per process: CQ overflows and CQEs posted outside a request's own completion. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct iouring_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOURING_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} uring_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iouring_value);
} scratch SEC(".maps");

KOTEL_STATS_MAP();
KOTEL_EXPORT_TYPE(struct iouring_start, iouring_start);
KOTEL_EXPORT_TYPE(struct iouring_key, iouring_key);
KOTEL_EXPORT_TYPE(struct iouring_value, iouring_value);
KOTEL_EXPORT_TYPE(struct iouring_err_key, iouring_err_key);
KOTEL_EXPORT_TYPE(struct iouring_proc, iouring_proc);
KOTEL_EXPORT_TYPE(enum iouring_stat, iouring_stat);
KOTEL_EXPORT_TYPE(enum iouring_err_kind, iouring_err_kind);
KOTEL_EXPORT_TYPE(enum kotel_stat, kotel_stat);
KOTEL_EXPORT_TYPE(struct kotel_event_header, kotel_event_header);
KOTEL_EXPORT_TYPE(enum kotel_event_kind, kotel_event_kind);
KOTEL_EXPORT_TYPE(enum io_uring_op, io_uring_op);   /* the opcode names, from the kernel's BTF */

/* The current thread group, by a direct BTF load (no helper call: bpf_get_current_task_btf is
 * inlined by the JIT, bpf_get_current_pid_tgid is not). */
static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_task_btf()->tgid;
}

static __always_inline void uring_stat_add(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&uring_stats, &slot);
	if (v)
		*v += 1;
}

KOTEL_INFLIGHT(inflight, inflight, struct iouring_start, inflight_mask, ts_ns)

static __always_inline struct iouring_value *series(__u32 tgid, __u32 opcode)
{
	struct iouring_key key = { .tgid = tgid, .opcode = opcode };
	struct iouring_value *v = bpf_map_lookup_elem(&latency, &key);
	__u32 zero = 0;

	if (v)
		return v;
	v = bpf_map_lookup_elem(&scratch, &zero);   /* never written: all zero */
	if (!v)
		return NULL;
	bpf_map_update_elem(&latency, &key, v, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&latency, &key);
	if (v && current_tgid() == tgid)
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	if (!v)
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	return v;
}

static __always_inline void count_error(__u32 tgid, __u32 opcode, __s32 err, __u32 kind)
{
	struct iouring_err_key k = { .tgid = tgid, .opcode = opcode, .err = err, .kind = kind };
	__u64 *n = bpf_map_lookup_elem(&errors, &k), zero = 0;

	if (!n) {
		bpf_map_update_elem(&errors, &k, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&errors, &k);
	}
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
}

/* The series the last submit on this CPU went to: skips the hash lookup for a busy ring. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iouring_key);
} last_series SEC(".maps");

static __always_inline struct iouring_proc *proc_of(__u32 tgid)
{
	struct iouring_proc *p = bpf_map_lookup_elem(&procs, &tgid), zero = {};

	if (p)
		return p;
	bpf_map_update_elem(&procs, &tgid, &zero, BPF_NOEXIST);
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	return p;
}

/* A submit found its request pointer still in flight: the kernel reused the request struct, so
 * the previous use ended unseen. When the process has CQ overflows not yet accounted for, that
 * is what happened (an overflowed CQE passes no request to any tracepoint); otherwise it is a
 * completion we missed. */
static __always_inline void on_reused(__u32 tgid)
{
	struct iouring_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p && p->reclaimed < p->cq_overflows) {
		__sync_fetch_and_add(&p->reclaimed, 1);
		uring_stat_add(IOURING_STAT_RECLAIMED);
	} else {
		uring_stat_add(IOURING_STAT_REPLACED);
	}
}

static __always_inline struct iouring_start *start(__u64 req, __u32 tgid, __u32 opcode)
{
	enum kotel_claim how;
	struct iouring_start *s = inflight_claim(req, &how);

	if (how == KOTEL_CLAIM_EXISTING)
		on_reused(tgid);
	else if (how == KOTEL_CLAIM_EVICTED)
		uring_stat_add(IOURING_STAT_EVICTED);
	if (!s) {
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
		return NULL;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->tgid = tgid;
	s->opcode = opcode;
	s->refused = 0;
	return s;
}

static __always_inline void on_submit(__u64 req, __u32 opcode)
{
	__u32 tgid = current_tgid(), zero = 0;
	struct iouring_key *last;

	if (tgid == self_tgid)
		return;
	uring_stat_add(IOURING_STAT_SUBMITTED);
	/* Create the series in the submitter's context, where its comm is known. */
	last = bpf_map_lookup_elem(&last_series, &zero);
	if (last && (last->tgid != tgid || last->opcode != opcode)) {
		if (series(tgid, opcode)) {
			last->tgid = tgid;
			last->opcode = opcode;
		}
	}
	start(req, tgid, opcode);
}

/* A CQE posted without a request (io_fill_cqe_aux passes NULL): multishot requests post their
 * intermediate CQEs (F_MORE) this way, and the request's own final CQE later carries the request.
 * They run in the submitter's task context (task work), or in its io-wq/SQPOLL threads. */
static __always_inline void on_aux_cqe(__u32 cflags)
{
	__u32 tgid = current_tgid();
	struct iouring_proc *p;

	if (tgid == self_tgid)
		return;
	uring_stat_add(IOURING_STAT_AUX);
	p = proc_of(tgid);
	if (!p)
		return;
	if (cflags & IOURING_CQE_F_MORE)
		__sync_fetch_and_add(&p->multishot_cqes, 1);
	else
		__sync_fetch_and_add(&p->other_aux_cqes, 1);
}

static __always_inline void on_complete(__u64 req, __s32 res, __u32 cflags)
{
	struct iouring_start *s;
	struct iouring_value *v;
	__u64 now, lat;
	__u32 tgid, opcode, b;

	if (!req) {
		on_aux_cqe(cflags);
		return;
	}
	if (cflags & IOURING_CQE_F_NOTIF) {
		/* Posted by the notification request a zero-copy send created in the kernel (never
		 * submitted); the send itself completed with F_MORE, which ended its request. */
		tgid = current_tgid();
		if (tgid != self_tgid) {
			struct iouring_proc *p = proc_of(tgid);
			uring_stat_add(IOURING_STAT_NOTIF);
			if (p)
				__sync_fetch_and_add(&p->notif_cqes, 1);
		}
		return;
	}
	s = inflight_find(req);
	if (!s) {
		if (current_tgid() != self_tgid)
			uring_stat_add(IOURING_STAT_UNMATCHED);
		return;
	}
	now = bpf_ktime_get_ns();
	lat = now - s->ts_ns;
	tgid = s->tgid;
	opcode = s->opcode;
	/* A CQE that carries its request ends that request, F_MORE or not (the kernel posts multishot
	 * intermediates without the request; a zero-copy send's F_MORE announces a notification
	 * from another request). */
	if (s->refused) {
		inflight_release(s, req);
		uring_stat_add(IOURING_STAT_REFUSED);   /* counted as a failed request, not timed */
		return;
	}
	inflight_release(s, req);
	uring_stat_add(IOURING_STAT_COMPLETED);
	v = series(tgid, opcode);
	if (v) {
		/* Per-CPU value: plain updates. */
		b = kotel_hist_bucket(lat, sub_bits, min_exp, nbounds);
		v->count++;
		v->sum += lat;
		if (b < KOTEL_HIST_SLOTS)
			v->buckets[b]++;
		if (lat > v->max)
			v->max = lat;
		if (~lat > v->min_inv)
			v->min_inv = ~lat;
	}
	if (res < 0)
		count_error(tgid, opcode, res, IOURING_ERR_COMPLETION);
}

static __always_inline void on_async_work(__u64 req, __u32 opcode)
{
	struct iouring_start *s = inflight_find(req);
	/* (The helper here: clang merges s->tgid and a BTF load into one instruction the verifier refuses.) */
	__u32 tgid = s ? s->tgid : bpf_get_current_pid_tgid() >> 32;
	struct iouring_value *v;

	if (tgid == self_tgid)
		return;
	v = series(tgid, opcode);
	if (v)
		v->async_work++;
}

/* Refused at submission (io_init_req: bad flags, opcode or SQE fields): the tracepoint fires in
 * the submitter's context instead of io_uring_submit_req, and the request's CQE follows. */
static __always_inline void on_req_failed(__u64 req, __u32 opcode, __s32 error)
{
	__u32 tgid = current_tgid();
	struct iouring_start *s;

	if (tgid == self_tgid)
		return;
	count_error(tgid, opcode, error, IOURING_ERR_REQ_FAILED);
	s = start(req, tgid, opcode);   /* so its CQE is recognised, not counted as unmatched */
	if (s)
		s->refused = 1;
}

static __always_inline void on_overflow(void)
{
	/* Overflows are posted from the ring owner's task context (task work, or its io-wq
	 * threads, which share its thread group). */
	__u32 tgid = current_tgid();
	struct iouring_proc *p;

	if (tgid == self_tgid)
		return;
	p = proc_of(tgid);
	if (p)
		__sync_fetch_and_add(&p->cq_overflows, 1);
}

/* ---- tp_btf (the argument shapes of 6.x; an older kernel's shapes fail verification and
 * the loader falls back to the classic tracepoints, whose records name their fields) ---- */

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(io_uring_submit_req_btf, struct io_kiocb *req)
{
	on_submit(kotel_ptr_id(req, inflight), req->opcode);
	return 0;
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(io_uring_complete_btf, void *ring, void *req, struct io_uring_cqe *cqe)
{
	on_complete(kotel_ptr_id(kotel_as(struct io_kiocb, req), inflight), cqe->res, cqe->flags);
	return 0;
}

SEC("tp_btf/io_uring_queue_async_work")
int BPF_PROG(io_uring_queue_async_work_btf, struct io_kiocb *req, int rw)
{
	on_async_work(kotel_ptr_id(req, inflight), req->opcode);
	return 0;
}

SEC("tp_btf/io_uring_req_failed")
int BPF_PROG(io_uring_req_failed_btf, const struct io_uring_sqe *sqe, struct io_kiocb *req, int error)
{
	on_req_failed(kotel_ptr_id(req, inflight), req->opcode, error);
	return 0;
}

SEC("tp_btf/io_uring_cqe_overflow")
int BPF_PROG(io_uring_cqe_overflow_btf)
{
	on_overflow();
	return 0;
}

/* ---- classic tracepoints ---- */

SEC("tracepoint/io_uring/io_uring_submit_req")
int io_uring_submit_req_tp(struct trace_event_raw_io_uring_submit_req *ctx)
{
	on_submit((__u64)BPF_CORE_READ(ctx, req), BPF_CORE_READ(ctx, opcode));
	return 0;
}

SEC("tracepoint/io_uring/io_uring_complete")
int io_uring_complete_tp(struct trace_event_raw_io_uring_complete *ctx)
{
	on_complete((__u64)BPF_CORE_READ(ctx, req), BPF_CORE_READ(ctx, res), BPF_CORE_READ(ctx, cflags));
	return 0;
}

SEC("tracepoint/io_uring/io_uring_queue_async_work")
int io_uring_queue_async_work_tp(struct trace_event_raw_io_uring_queue_async_work *ctx)
{
	on_async_work((__u64)BPF_CORE_READ(ctx, req), BPF_CORE_READ(ctx, opcode));
	return 0;
}

SEC("tracepoint/io_uring/io_uring_req_failed")
int io_uring_req_failed_tp(struct trace_event_raw_io_uring_req_failed *ctx)
{
	on_req_failed((__u64)BPF_CORE_READ(ctx, req), BPF_CORE_READ(ctx, opcode), BPF_CORE_READ(ctx, error));
	return 0;
}

SEC("tracepoint/io_uring/io_uring_cqe_overflow")
int io_uring_cqe_overflow_tp(void *ctx)
{
	on_overflow();
	return 0;
}
