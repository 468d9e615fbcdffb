/* The server request each thread is serving, shared by receivers: the http receiver writes it,
 * others (syscalls; http's own client spans) read it to join a request's trace. User space
 * creates the map once and hands the same fd to every object that declares it. */
#ifndef KOTEL_THREAD_CTX_H
#define KOTEL_THREAD_CTX_H

#define KOTEL_THREAD_CTX_ENTRIES 16384

struct kotel_thread_ctx {
	__u32 active;                /* server requests this thread has read and not yet answered */
	__u32 ambiguous;             /* 1 once two overlapped: which remains is unknown until idle */
	__u8 trace_id[16];
	__u8 span_id[8];
};

#define KOTEL_THREAD_CTX_MAP()                                 \
	struct {                                               \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);           \
		__uint(max_entries, KOTEL_THREAD_CTX_ENTRIES); \
		__type(key, __u32);                            \
		__type(value, struct kotel_thread_ctx);        \
	} thread_ctx SEC(".maps")

/* Copies the request `tid` is serving, only when exactly one is known: never a guess. */
static __always_inline bool kotel_thread_ctx_current(void *map, __u32 tid, __u8 *trace_id, __u8 *span_id)
{
	struct kotel_thread_ctx *t = bpf_map_lookup_elem(map, &tid);

	if (!t || t->active != 1 || t->ambiguous)
		return false;
	__builtin_memcpy(trace_id, t->trace_id, 16);
	__builtin_memcpy(span_id, t->span_id, 8);
	return true;
}

#endif
