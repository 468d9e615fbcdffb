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
#include "kotel_inflight.h"

char LICENSE[] SEC("license") = "GPL";

#define REQ_OP_MASK_ ((1U << 8) - 1)   /* REQ_OP_BITS = 8 since 4.10 */
#define MINORBITS 20

const volatile __u32 sub_bits = 2;     /* 2^sub_bits buckets per power of two */
const volatile __u32 min_exp = 10;     /* first bound: 2^min_exp ns */
const volatile __u32 nbounds = 108;    /* finite bounds; bucket nbounds is the overflow */
const volatile __u8 attribute_cgroups = 1;
const volatile __u8 track_queue = 0;   /* insert hook attached: also time insert → issue */

/* In-flight slots − 1: user space sizes the `inflight` map (limits.in_flight) and sets this. */
const volatile __u32 inflight_mask = (1U << BLOCKIO_INFLIGHT_BITS) - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << BLOCKIO_INFLIGHT_BITS);
	__type(key, __u32);
	__type(value, struct blockio_start);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
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

KOTEL_INFLIGHT(inflight, inflight, struct blockio_start, inflight_mask, issue_ns)

/* struct request_queue ->disk (5.15+) or struct request ->rq_disk (older). */
struct request___old { struct gendisk *rq_disk; };

/* What issue needs from a request. Two readers: direct BTF loads (tp_btf: no helper calls,
 * NULL-safe by the verifier) and BPF_CORE_READ (raw_tp: untyped pointer). */
#define REQUEST_INFO(NAME, READ)                                                                   \
static __always_inline void NAME(struct request *rq, __u32 *op, __u32 *dev, __u64 *cgroup_id)     \
{                                                                                                  \
	struct block_device *part = READ(rq, part);                                                \
	*op = READ(rq, cmd_flags) & REQ_OP_MASK_;                                                  \
	if (part) {                                                                                \
		*dev = READ(part, bd_dev);                                                         \
	} else {                                                                                   \
		struct gendisk *disk;                                                              \
		if (bpf_core_field_exists(rq->q->disk)) {                                          \
			struct request_queue *q = READ(rq, q);                                     \
			disk = q ? READ(q, disk) : NULL;                                           \
		} else {                                                                           \
			disk = BPF_CORE_READ((struct request___old *)rq, rq_disk);                 \
		}                                                                                  \
		*dev = disk ? ((__u32)READ(disk, major) << MINORBITS) | (__u32)READ(disk, first_minor) : 0; \
	}                                                                                          \
	*cgroup_id = 0;                                                                            \
	if (attribute_cgroups && bpf_core_field_exists(rq->bio->bi_blkg)) {                        \
		struct bio *bio = READ(rq, bio);                                                   \
		struct blkcg_gq *blkg = bio ? READ(bio, bi_blkg) : NULL;                           \
		struct blkcg *blkcg = blkg ? READ(blkg, blkcg) : NULL;                             \
		struct cgroup *cg = blkcg ? READ2(blkcg, css, cgroup) : NULL;                      \
		struct kernfs_node *kn = cg ? READ(cg, kn) : NULL;                                 \
		*cgroup_id = kn ? admit_cgroup(READ(kn, id)) : 0;                                  \
	}                                                                                          \
}

#define DIRECT(p, f) ((p)->f)
#define DIRECT2(p, a, b) ((p)->a.b)
#define CORE(p, f) BPF_CORE_READ(p, f)
#define CORE2(p, a, b) BPF_CORE_READ(p, a.b)

/* Bounded cardinality: a cgroup gets its own series only while `cgroups` has room. A per-CPU
 * one-entry cache skips the hash lookup when consecutive requests share a cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_cgroup SEC(".maps");

static __always_inline __u64 admit_cgroup(__u64 id)
{
	__u32 zero = 0;
	__u64 *last = bpf_map_lookup_elem(&last_cgroup, &zero);
	__u8 one = 1;

	if (!id)
		return 0;
	if (last && *last == id)
		return id;
	if (bpf_map_lookup_elem(&cgroups, &id) ||
	    bpf_map_update_elem(&cgroups, &id, &one, BPF_NOEXIST) == 0 || bpf_map_lookup_elem(&cgroups, &id)) {
		if (last)
			*last = id;
		return id;
	}
	block_stat_add(BLOCKIO_STAT_CGROUP_OVERFLOW);
	return 0;
}

#define READ2 DIRECT2
REQUEST_INFO(request_info_btf, DIRECT)
#undef READ2
#define READ2 CORE2
REQUEST_INFO(request_info_core, CORE)
#undef READ2

static __always_inline struct blockio_start *claim(__u64 id)
{
	enum kotel_claim how;
	struct blockio_start *s = inflight_claim(id, &how);

	if (how == KOTEL_CLAIM_EVICTED)
		block_stat_add(BLOCKIO_STAT_EVICTED);
	else if (how == KOTEL_CLAIM_FAILED)
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	if (s && how != KOTEL_CLAIM_EXISTING) {
		s->insert_ns = 0;
		s->issue_ns = 0;
	}
	return s;
}

static __always_inline void on_insert(__u64 id, __u32 op, __u32 dev, __u64 cgroup_id)
{
	struct blockio_start *s = claim(id);

	if (!s)
		return;
	s->insert_ns = bpf_ktime_get_ns();
	s->issue_ns = 0;
	s->cgroup_id = cgroup_id;
	s->op = op;
	s->dev = dev;
}

static __always_inline void on_issue(__u64 id, __u32 op, __u32 dev, __u64 cgroup_id)
{
	struct blockio_start *s;

	block_stat_add(BLOCKIO_STAT_ISSUED);
	s = claim(id);
	if (!s)
		return;
	/* A requeued request is issued again: its service time restarts; insert time stays. */
	s->issue_ns = bpf_ktime_get_ns();
	s->cgroup_id = cgroup_id;
	s->op = op;
	s->dev = dev;
}

static __always_inline struct blockio_value *series(struct blockio_key *key)
{
	struct blockio_value *v = bpf_map_lookup_elem(&latency, key);
	__u32 zero = 0;

	if (v)
		return v;
	/* A new series starts from the never-written (all zero) scratch value: too large for the stack. */
	v = bpf_map_lookup_elem(&scratch, &zero);
	if (!v)
		return NULL;
	bpf_map_update_elem(&latency, key, v, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&latency, key);
	if (!v)
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	return v;
}

/* dev: from the tracepoint record (classic), or 0 to use the one stored at issue. */
static __always_inline void on_complete(__u64 id, __u32 dev, __u64 bytes, __s32 err)
{
	struct blockio_start *s = inflight_find(id);
	struct blockio_key key = {};
	struct blockio_value *v;
	__u64 now, lat, insert_ns, issue_ns;

	if (!s) {
		block_stat_add(BLOCKIO_STAT_UNMATCHED);
		return;
	}
	now = bpf_ktime_get_ns();
	insert_ns = s->insert_ns;
	issue_ns = s->issue_ns;
	key.dev = dev ? dev : s->dev;
	key.op = s->op;
	key.cgroup_id = s->cgroup_id;
	inflight_release(s, id);
	if (!issue_ns || issue_ns > now) {   /* inserted, never issued: not a completion to time */
		block_stat_add(BLOCKIO_STAT_UNMATCHED);
		return;
	}
	lat = now - issue_ns;

	v = series(&key);
	if (v) {
		/* Per-CPU value: plain updates, no atomics. */
		__u32 b = kotel_hist_bucket(lat, sub_bits, min_exp, nbounds);
		v->count++;
		v->sum += lat;
		if (b < KOTEL_HIST_SLOTS)
			v->buckets[b]++;
		if (lat > v->max)
			v->max = lat;
		if (~lat > v->min_inv)
			v->min_inv = ~lat;
		v->bytes += bytes;
		if (insert_ns && insert_ns <= issue_ns) {
			v->queued++;
			v->queue_sum += issue_ns - insert_ns;
		}
		block_stat_add(BLOCKIO_STAT_COMPLETED);
	}
	if (err) {
		struct blockio_err_key ek = { .dev = key.dev, .op = key.op, .err = err };
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

/* ---- tp_btf: typed request pointer, direct loads (cheapest) ---- */

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert_btf, struct request *rq)
{
	__u32 op, dev;
	__u64 cg;

	request_info_btf(rq, &op, &dev, &cg);
	on_insert(kotel_ptr_id(rq, inflight), op, dev, cg);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue_btf, struct request *rq)
{
	__u32 op, dev;
	__u64 cg;

	request_info_btf(rq, &op, &dev, &cg);
	on_issue(kotel_ptr_id(rq, inflight), op, dev, cg);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete_btf, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	on_complete(kotel_ptr_id(rq, inflight), 0, nr_bytes, error);
	return 0;
}

/* ---- raw_tp: the same arguments, untyped ---- */

SEC("raw_tp/block_rq_insert")
int BPF_PROG(block_rq_insert_raw, struct request *rq)
{
	__u32 op, dev;
	__u64 cg;

	request_info_core(rq, &op, &dev, &cg);
	on_insert(ctx[0], op, dev, cg);   /* raw_tp arguments are plain numbers */
	return 0;
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(block_rq_issue_raw, struct request *rq)
{
	__u32 op, dev;
	__u64 cg;

	request_info_core(rq, &op, &dev, &cg);
	on_issue(ctx[0], op, dev, cg);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(block_rq_complete_raw, struct request *rq, int error, unsigned int nr_bytes)
{
	on_complete(ctx[0], 0, nr_bytes, (__s32)(__u8)error);
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

/* The classic records carry no request pointer: (dev, sector) identifies a request in flight. */
static __always_inline __u64 tp_id(__u32 dev, __u64 sector)
{
	return (kotel_mix64(sector) ^ ((__u64)dev << 1)) | 1;
}

SEC("tracepoint/block/block_rq_insert")
int block_rq_insert_tp(struct trace_event_raw_block_rq *ctx)
{
	on_insert(tp_id(ctx->dev, ctx->sector), rwbs_op(ctx->rwbs), ctx->dev, 0);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int block_rq_issue_tp(struct trace_event_raw_block_rq *ctx)
{
	on_issue(tp_id(ctx->dev, ctx->sector), rwbs_op(ctx->rwbs), ctx->dev, 0);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete_tp(struct trace_event_raw_block_rq_completion *ctx)
{
	on_complete(tp_id(ctx->dev, ctx->sector), ctx->dev, (__u64)ctx->nr_sector << 9, ctx->error);
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
