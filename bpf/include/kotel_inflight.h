/* A bounded in-flight table for request correlation (start → end) without hash-map updates:
 * an ARRAY map of 2^n slots, two candidate slots per id (2-way set associative), claimed by
 * compare-and-swap of the slot's `id`. Hash map update + delete cost ~550 ns per request on
 * our kernels (measured: bench/RESULTS-blockio.md); this costs two inlined array lookups and
 * one CAS. When both slots hold other requests, the older one is evicted (a 2-way LRU) and the
 * caller counts it. Values need fields `id` (0 = free) and a timestamp field for eviction. */
#ifndef KOTEL_INFLIGHT_H
#define KOTEL_INFLIGHT_H

static __always_inline __u64 kotel_mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* A typed (BTF) pointer as a plain number, to hash it, without a helper call: the verifier refuses
 * arithmetic on typed pointers, except that pointer − pointer is a scalar for programs allowed to
 * leak pointers, which every tracing program is (tp_btf needs CAP_PERFMON). The other pointer is
 * a map's address (constant for the object's life), so equal requests give equal ids; NULL gives 0.
 * Measured: one bpf_probe_read_kernel per hook cost more than the rest of a small program. */
#define kotel_ptr_id(p, map) ((p) ? (__u64)(void *)(p) - (__u64)(void *)&(map) : 0)

/* An untyped (void *, or raw_tp) pointer typed again without a call: the verifier turns
 * bpf_rdonly_cast into a register move. For kotel_ptr_id on pointers the tracepoint passes as void *. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define kotel_as(type, p) ((type *)bpf_rdonly_cast((const void *)(p), bpf_core_type_id_kernel(type)))

/* Argument `n` of a tp_btf program as a plain number through a probe read (kept for pointers
 * the verifier will not subtract). */
static __always_inline __u64 kotel_arg_id(unsigned long long *ctx, int n)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx[n]);
	return v;
}

enum kotel_claim { KOTEL_CLAIM_NEW = 0, KOTEL_CLAIM_EXISTING = 1, KOTEL_CLAIM_EVICTED = 2, KOTEL_CLAIM_FAILED = 3 };

/* MASK: slots − 1 (a power of two − 1; a `const volatile` set with the map's max_entries). */
#define KOTEL_INFLIGHT(NAME, MAP, TYPE, MASK, STAMP)                                           \
static __always_inline TYPE *NAME##_slot(__u64 id, int way)                                    \
{                                                                                              \
	__u64 h = kotel_mix64(id);                                                             \
	__u32 idx = (way ? (__u32)(h >> 32) : (__u32)h) & (MASK);                              \
	return bpf_map_lookup_elem(&MAP, &idx);                                                \
}                                                                                              \
static __always_inline TYPE *NAME##_find(__u64 id)                                             \
{                                                                                              \
	TYPE *a = NAME##_slot(id, 0), *b;                                                      \
	if (a && a->id == id)                                                                  \
		return a;                                                                      \
	b = NAME##_slot(id, 1);                                                                \
	return b && b->id == id ? b : NULL;                                                    \
}                                                                                              \
/* Releases a slot found by _find (the caller read what it needed first). */                  \
static __always_inline void NAME##_release(TYPE *s, __u64 id)                                  \
{                                                                                              \
	__sync_val_compare_and_swap(&s->id, id, 0);                                            \
}                                                                                              \
static __always_inline TYPE *NAME##_claim(__u64 id, enum kotel_claim *how)                     \
{                                                                                              \
	TYPE *a = NAME##_slot(id, 0), *b = NAME##_slot(id, 1), *victim;                        \
	__u64 old;                                                                             \
	if (!a || !b) {                                                                        \
		*how = KOTEL_CLAIM_FAILED;                                                     \
		return NULL;                                                                   \
	}                                                                                      \
	if (a->id == id || b->id == id) {                                                      \
		*how = KOTEL_CLAIM_EXISTING;                                                   \
		return a->id == id ? a : b;                                                    \
	}                                                                                      \
	if (a->id == 0 && __sync_val_compare_and_swap(&a->id, 0, id) == 0) {                   \
		*how = KOTEL_CLAIM_NEW;                                                        \
		return a;                                                                      \
	}                                                                                      \
	if (b->id == 0 && __sync_val_compare_and_swap(&b->id, 0, id) == 0) {                   \
		*how = KOTEL_CLAIM_NEW;                                                        \
		return b;                                                                      \
	}                                                                                      \
	victim = a->STAMP <= b->STAMP ? a : b;                                                 \
	old = victim->id;                                                                      \
	if (old && __sync_val_compare_and_swap(&victim->id, old, id) == old) {                 \
		*how = KOTEL_CLAIM_EVICTED;                                                    \
		return victim;                                                                 \
	}                                                                                      \
	*how = KOTEL_CLAIM_FAILED;                                                             \
	return NULL;                                                                           \
}

#endif
