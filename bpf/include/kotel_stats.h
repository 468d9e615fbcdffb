/* The per-CPU `stats` array every receiver exports as kotel's own metrics. */
#ifndef KOTEL_STATS_H
#define KOTEL_STATS_H

#include "kotel_event.h"

#define KOTEL_STATS_MAP()                                      \
	struct {                                               \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);       \
		__uint(max_entries, KOTEL_STAT_COUNT);         \
		__type(key, __u32);                            \
		__type(value, __u64);                          \
	} stats SEC(".maps")

#define kotel_stat_add(slot, n)                                \
	do {                                                   \
		__u32 __k = (slot);                            \
		__u64 *__v = bpf_map_lookup_elem(&stats, &__k); \
		if (__v)                                       \
			*__v += (n);                           \
	} while (0)

#endif

/* Reserves a ring-buffer record of ev's type and fills the common header; a full ring buffer is
 * counted (KOTEL_STAT_RINGBUF_FULL). NULL when nothing could be reserved. */
#define kotel_reserve(ringbuf, ev, event_kind, ts)                               \
	({                                                                         \
		typeof(ev) __e = bpf_ringbuf_reserve(ringbuf, sizeof(*(ev)), 0);  \
		if (__e) {                                                         \
			__e->hdr.kind = (event_kind);                              \
			__e->hdr.version = 1;                                      \
			__e->hdr.size = sizeof(*(ev));                             \
			__e->hdr.ts_ns = (ts);                                     \
		} else {                                                           \
			kotel_stat_add(KOTEL_STAT_RINGBUF_FULL, 1);                \
		}                                                                  \
		__e;                                                               \
	})

/* Keeps a type in the object's BTF even when only used through ring-buffer pointers, so
 * user space can generate its decoder offsets from the object itself. */
#define KOTEL_EXPORT_TYPE(type, tag) type *__kotel_btf_##tag __attribute__((unused))
