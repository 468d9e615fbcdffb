/* In-kernel latency histograms with integer, upper-inclusive bucket thresholds.
 *
 * Bounds are log2 with 2^sub_bits sub-buckets per power of two, starting at 2^min_exp:
 *   bound[i] = (2^s + (I & (2^s - 1))) << (I >> s),   I = i + (min_exp - s) * 2^s,  i < nbounds
 * and bucket i holds the values v with bound[i-1] < v <= bound[i] (bucket 0: v <= bound[0];
 * bucket nbounds: v > bound[nbounds-1]). That is OTLP's (b[i-1], b[i]] convention, so a value
 * equal to a bound lands in the same bucket here and in OTLP. The mapping is ceil-based (it
 * works on v - 1): a floor(log2(v)) mapping would put v = 2^k one bucket too high.
 * src/pipeline/kernel-histogram.ts mirrors this function; a test runs both on the same values. */
#ifndef KOTEL_HIST_H
#define KOTEL_HIST_H

#define KOTEL_HIST_SLOTS 160     /* finite bounds + the overflow bucket */

static __always_inline __u32 kotel_log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* Bucket index in [0, nbounds] of value v (requires sub_bits <= min_exp, nbounds < KOTEL_HIST_SLOTS). */
static __always_inline __u32 kotel_hist_bucket(__u64 v, __u32 sub_bits, __u32 min_exp, __u32 nbounds)
{
	__u64 x, m;
	__u32 e;
	__s64 idx;

	if (v <= 1)
		return 0;
	x = v - 1;
	e = kotel_log2_u64(x);
	if (e < sub_bits)
		return 0;
	m = x >> (e - sub_bits);                      /* in [2^s, 2^(s+1)) */
	idx = (__s64)(e - sub_bits) * (1LL << sub_bits) + (__s64)(m + 1) - (1LL << sub_bits);
	idx -= (__s64)(min_exp - sub_bits) * (1LL << sub_bits);
	if (idx < 0)
		return 0;
	if (idx > nbounds)
		return nbounds;
	return (__u32)idx;
}

/* Adds one value to a histogram value struct with fields count, sum, max, min_inv, buckets[]:
 * exact count and sum (atomic adds); max and min (kept as the max of ~v, so a zeroed entry
 * needs no initialisation) by compare-and-swap with bounded retries. */
static __always_inline void kotel_max_u64(__u64 *slot, __u64 v)
{
	for (int i = 0; i < 4; i++) {
		__u64 old = *slot;
		if (v <= old || __sync_val_compare_and_swap(slot, old, v) == old)
			break;
	}
}

#define kotel_hist_add(h, v, bucket)                                   \
	do {                                                               \
		__u32 __b = (bucket);                                      \
		__u64 __v = (v);                                           \
		__sync_fetch_and_add(&(h)->count, 1);                      \
		__sync_fetch_and_add(&(h)->sum, __v);                      \
		if (__b < KOTEL_HIST_SLOTS)                                \
			__sync_fetch_and_add(&(h)->buckets[__b], 1);       \
		kotel_max_u64(&(h)->max, __v);                             \
		kotel_max_u64(&(h)->min_inv, ~__v);                        \
	} while (0)

#endif
