// SPDX-License-Identifier: GPL-2.0
/* Block I/O latency: issue → complete per request, aggregated in the kernel into exact
 * per-(device, operation, cgroup) histograms and counters that user space reads periodically.
 * No ring buffer: nothing crosses to user space per event. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "blockio.h"
#include "kotel_stats.h"

char LICENSE[] SEC("license") = "GPL";

#define REQ_OP_MASK_ ((1U << 8) - 1)   /* REQ_OP_BITS = 8 since 4.10 */
#define MINORBITS 20

const volatile __u32 sub_bits = 2;     /* 2^sub_bits buckets per power of two */
const volatile __u32 min_exp = 10;     /* first bound: 2^min_exp ns */
const volatile __u32 nbounds = 108;    /* finite bounds; bucket nbounds is the overflow */
const volatile __u8 attribute_cgroups = 1;
const volatile __u8 track_queue = 0;   /* insert hook attached: also time insert → issue */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);      /* requests in flight on all devices (nr_requests is 64..2048 per queue) */
	__type(key, struct blockio_start_key);
	__type(value, struct blockio_start);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct blockio_key);
	__type(value, struct blockio_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);   /* series are created rarely: allocate on insert */
} latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct blockio_err_key);
	__type(value, __u64);
} errors SEC(".maps");

/* The cgroups series may be attributed to (bounded: max_entries set by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BLOCKIO_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} block_stats SEC(".maps");

/* One zeroed value to insert from (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct blockio_value);
} scratch SEC(".maps");

KOTEL_STATS_MAP();
KOTEL_EXPORT_TYPE(struct blockio_start_key, blockio_start_key);
KOTEL_EXPORT_TYPE(struct blockio_start, blockio_start);
KOTEL_EXPORT_TYPE(struct blockio_key, blockio_key);
KOTEL_EXPORT_TYPE(struct blockio_value, blockio_value);
KOTEL_EXPORT_TYPE(struct blockio_err_key, blockio_err_key);
KOTEL_EXPORT_TYPE(enum blockio_stat, blockio_stat);
KOTEL_EXPORT_TYPE(enum kotel_stat, kotel_stat);
KOTEL_EXPORT_TYPE(struct kotel_event_header, kotel_event_header);   /* the common layout is checked in every object */
KOTEL_EXPORT_TYPE(enum kotel_event_kind, kotel_event_kind);

static __always_inline void block_stat_add(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&block_stats, &slot);
	if (v)
		*v += 1;
}

/* struct request_queue ->disk (5.15+) or struct request ->rq_disk (older). */
struct request___old { struct gendisk *rq_disk; };

static __always_inline __u32 request_dev(struct request *rq)
{
	struct block_device *part = BPF_CORE_READ(rq, part);
	struct gendisk *disk = NULL;

	if (part)
		return BPF_CORE_READ(part, bd_dev);
	if (bpf_core_field_exists(rq->q->disk))
		disk = BPF_CORE_READ(rq, q, disk);
	else
		disk = BPF_CORE_READ((struct request___old *)rq, rq_disk);
	if (!disk)
		return 0;
	return ((__u32)BPF_CORE_READ(disk, major) << MINORBITS) | (__u32)BPF_CORE_READ(disk, first_minor);
}

/* The cgroup that submitted the request's first bio (blk-cgroup), bounded by the `cgroups` map. */
static __always_inline __u64 request_cgroup(struct request *rq)
{
	__u64 id = 0;

	if (!attribute_cgroups)
		return 0;
	if (bpf_core_field_exists(rq->bio->bi_blkg)) {
		struct blkcg_gq *blkg = BPF_CORE_READ(rq, bio, bi_blkg);
		if (blkg)
			id = BPF_CORE_READ(blkg, blkcg, css.cgroup, kn, id);
	}
	if (!id)
		return 0;
	if (bpf_map_lookup_elem(&cgroups, &id))
		return id;
	__u8 one = 1;
	if (bpf_map_update_elem(&cgroups, &id, &one, BPF_NOEXIST) == 0 || bpf_map_lookup_elem(&cgroups, &id))
		return id;
	block_stat_add(BLOCKIO_STAT_CGROUP_OVERFLOW);
	return 0;
}

static __always_inline void on_insert(struct blockio_start_key *key, __u32 op, __u64 cgroup_id)
{
	struct blockio_start s = {};

	s.insert_ns = bpf_ktime_get_ns();
	s.cgroup_id = cgroup_id;
	s.op = op;
	bpf_map_update_elem(&start, key, &s, BPF_ANY);
}

static __always_inline void on_issue(struct blockio_start_key *key, __u32 op, __u64 cgroup_id)
{
	struct blockio_start *s;
	__u64 now = bpf_ktime_get_ns();

	block_stat_add(BLOCKIO_STAT_ISSUED);
	if (track_queue) {
		s = bpf_map_lookup_elem(&start, key);
		if (s) {
			/* A requeued request is issued again: its service time restarts. */
			s->issue_ns = now;
			s->op = op;
			return;
		}
	}
	struct blockio_start fresh = {};
	fresh.issue_ns = now;
	fresh.cgroup_id = cgroup_id;
	fresh.op = op;
	if (bpf_map_update_elem(&start, key, &fresh, BPF_ANY))
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
}

static __always_inline struct blockio_value *series(struct blockio_key *key)
{
	struct blockio_value *v = bpf_map_lookup_elem(&latency, key);

	if (v)
		return v;
	/* A new series starts from the never-written (all zero) scratch value: too large for the stack. */
	__u32 zero = 0;
	v = bpf_map_lookup_elem(&scratch, &zero);
	if (!v)
		return NULL;
	bpf_map_update_elem(&latency, key, v, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&latency, key);
	if (!v)
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	return v;
}

static __always_inline void on_complete(struct blockio_start_key *skey, __u32 dev, __u64 bytes, __s32 err)
{
	struct blockio_start *s = bpf_map_lookup_elem(&start, skey);
	struct blockio_key key = {};
	struct blockio_value *v;
	__u64 now, lat;

	if (!s) {
		block_stat_add(BLOCKIO_STAT_UNMATCHED);
		return;
	}
	now = bpf_ktime_get_ns();
	if (!s->issue_ns) {   /* inserted, never issued (e.g. merged away): not a completion to time */
		bpf_map_delete_elem(&start, skey);
		block_stat_add(BLOCKIO_STAT_UNMATCHED);
		return;
	}
	lat = now - s->issue_ns;
	key.dev = dev;
	key.op = s->op;
	key.cgroup_id = s->cgroup_id;
	__u64 insert_ns = s->insert_ns, issue_ns = s->issue_ns;
	bpf_map_delete_elem(&start, skey);
	kotel_stat_add(KOTEL_STAT_EVENTS_SEEN, 1);

	v = series(&key);
	if (v) {
		kotel_hist_add(v, lat, kotel_hist_bucket(lat, sub_bits, min_exp, nbounds));
		__sync_fetch_and_add(&v->bytes, bytes);
		if (insert_ns && insert_ns <= issue_ns) {
			__sync_fetch_and_add(&v->queued, 1);
			__sync_fetch_and_add(&v->queue_sum, issue_ns - insert_ns);
		}
		block_stat_add(BLOCKIO_STAT_COMPLETED);
	}
	if (err) {
		struct blockio_err_key ek = { .dev = dev, .op = key.op, .err = err };
		__u64 *n = bpf_map_lookup_elem(&errors, &ek);
		if (!n) {
			__u64 zero = 0;
			bpf_map_update_elem(&errors, &ek, &zero, BPF_NOEXIST);
			n = bpf_map_lookup_elem(&errors, &ek);
		}
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	}
}

static __always_inline void rq_key(struct blockio_start_key *key, struct request *rq)
{
	key->rq = (__u64)rq;
	key->sector = 0;
	key->dev = 0;
	key->_pad = 0;
}

static __always_inline __u32 rq_op(struct request *rq)
{
	return BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK_;
}

/* ---- tp_btf: typed request pointer (cheapest) ---- */

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert_btf, struct request *rq)
{
	struct blockio_start_key key;
	rq_key(&key, rq);
	on_insert(&key, rq_op(rq), request_cgroup(rq));
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue_btf, struct request *rq)
{
	struct blockio_start_key key;
	rq_key(&key, rq);
	on_issue(&key, rq_op(rq), request_cgroup(rq));
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete_btf, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	struct blockio_start_key key;
	rq_key(&key, rq);
	on_complete(&key, request_dev(rq), nr_bytes, error);
	return 0;
}

/* ---- raw_tp: the same arguments, untyped ---- */

SEC("raw_tp/block_rq_insert")
int BPF_PROG(block_rq_insert_raw, struct request *rq)
{
	struct blockio_start_key key;
	rq_key(&key, rq);
	on_insert(&key, rq_op(rq), request_cgroup(rq));
	return 0;
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(block_rq_issue_raw, struct request *rq)
{
	struct blockio_start_key key;
	rq_key(&key, rq);
	on_issue(&key, rq_op(rq), request_cgroup(rq));
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(block_rq_complete_raw, struct request *rq, int error, unsigned int nr_bytes)
{
	struct blockio_start_key key;
	rq_key(&key, rq);
	on_complete(&key, request_dev(rq), nr_bytes, (__s32)(__u8)error);
	return 0;
}

/* ---- classic tracepoints: no request pointer; keyed by (dev, sector), op from rwbs ---- */

static __always_inline __u32 rwbs_op(const char *ctx_rwbs)
{
	char rwbs[4] = {};
	char c, d;

	/* The verifier refuses variable reads of ctx: copy the letters first. */
	bpf_probe_read_kernel(rwbs, sizeof(rwbs) - 1, ctx_rwbs);
	c = rwbs[0];
	d = rwbs[1];

	/* A leading F is REQ_PREFLUSH when an operation letter follows (blk_fill_rwbs). */
	if (c == 'F' && (d == 'W' || d == 'R' || d == 'D' || d == 'F' || d == 'N')) {
		c = d;
		d = rwbs[2];
	}
	switch (c) {
	case 'R': return 0;                       /* REQ_OP_READ */
	case 'W': return 1;                       /* REQ_OP_WRITE */
	case 'F': return 2;                       /* REQ_OP_FLUSH */
	case 'D': return d == 'E' ? 5 : 3;        /* REQ_OP_SECURE_ERASE : REQ_OP_DISCARD */
	default: return 0xff;                     /* other (write zeroes, zone ops, driver ops) */
	}
}

static __always_inline void tp_key(struct blockio_start_key *key, __u32 dev, __u64 sector)
{
	key->rq = 0;
	key->sector = sector;
	key->dev = dev;
	key->_pad = 0;
}

SEC("tracepoint/block/block_rq_insert")
int block_rq_insert_tp(struct trace_event_raw_block_rq *ctx)
{
	struct blockio_start_key key;
	tp_key(&key, ctx->dev, ctx->sector);
	on_insert(&key, rwbs_op(ctx->rwbs), 0);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int block_rq_issue_tp(struct trace_event_raw_block_rq *ctx)
{
	struct blockio_start_key key;
	tp_key(&key, ctx->dev, ctx->sector);
	on_issue(&key, rwbs_op(ctx->rwbs), 0);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete_tp(struct trace_event_raw_block_rq_completion *ctx)
{
	struct blockio_start_key key;
	tp_key(&key, ctx->dev, ctx->sector);
	on_complete(&key, ctx->dev, (__u64)ctx->nr_sector << 9, ctx->error);
	return 0;
}

/* ---- test hook: not loaded by the receiver ("?" section) ----
 * Runs the kernel's bucket function on the values user space wrote into selftest_in, on any
 * syscall of process selftest_tgid, so a test can compare it with the TypeScript mirror
 * (src/pipeline/kernel-histogram.ts) on the same values. (BPF_PROG_TEST_RUN of raw_tp would
 * do too, but bpftool's `prog run` always passes repeat, which raw_tp refuses.) */
#define SELFTEST_VALUES 512
const volatile __u32 selftest_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SELFTEST_VALUES);
	__type(key, __u32);
	__type(value, __u64);
} selftest_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SELFTEST_VALUES);
	__type(key, __u32);
	__type(value, __u32);
} selftest_out SEC(".maps");

static long selftest_one(__u32 i, void *unused)
{
	__u32 k = i;
	__u64 *in = bpf_map_lookup_elem(&selftest_in, &k);
	__u32 *out = bpf_map_lookup_elem(&selftest_out, &k);

	if (!in || !out)
		return 1;
	*out = kotel_hist_bucket(*in, sub_bits, min_exp, nbounds);
	return 0;
}

SEC("?tp_btf/sys_enter")
int BPF_PROG(bucket_selftest, struct pt_regs *regs, long id)
{
	if ((bpf_get_current_pid_tgid() >> 32) != selftest_tgid)
		return 0;
	bpf_loop(SELFTEST_VALUES, selftest_one, NULL, 0);
	return 0;
}
