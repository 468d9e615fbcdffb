// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x exchanges from socket I/O, without kprobes: tp_btf on sock:sock_send_length and
 * sock:sock_recv_length (socket I/O only, after the copy, with the byte count); the syscall's
 * user buffer comes from the task's saved registers. Where those tracepoints are missing, the
 * same pairing runs from syscall exits (see "Fallback" below). Requests and responses are paired per
 * connection in socket storage, and one ring-buffer record leaves per completed exchange. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "http.h"
#include "kotel_stats.h"
#include "kotel_thread_ctx.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define MSG_PEEK 2
#define PF_KTHREAD 0x00200000
#define TCP_ESTABLISHED 1
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8

/* x86_64 syscall numbers */
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 self_tgid = 0;
const volatile __u32 req_head_size = HTTP_HEAD_MAX;
const volatile __u32 resp_head_size = HTTP_HEAD_MAX;
const volatile __u8 tls_enabled = 0;     /* SSL uprobes attached: learn which socket carries which SSL* */
const volatile __u8 no_loop_helper = 0;  /* tests: scan with the bounded loop kernels before 5.17 (no bpf_loop) get */
/* What to follow (settings server, client, ports): tested before any read or map work */
const volatile __u8 capture_server = 1;  /* exchanges this host's processes answer */
const volatile __u8 capture_client = 1;  /* requests this host's processes send */
const volatile __u8 any_port = 1;        /* else only connections whose server port is in port_set */
const volatile __u8 port_set[65536 / 8];

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_conn);
} conns SEC(".maps");

KOTEL_THREAD_CTX_MAP();

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_scratch);
} scratch SEC(".maps");

/* TLS: the plaintext's connection state per (tgid, SSL*); max_entries set from the config. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct http_tls_key);
	__type(value, struct http_conn);
} tls_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct http_tls_call);
} tls_calls SEC(".maps");

/* The socket a TLS connection was bound to (by address: a close ends the connection's exchanges). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct http_tls_key);
} tls_by_sk SEC(".maps");

/* Never written: the zeroed value a new TLS connection starts from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_conn);
} conn_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23);
} events SEC(".maps");

KOTEL_STATS_MAP();
KOTEL_EXPORT_TYPE(struct http_event, http_event);
KOTEL_EXPORT_TYPE(struct http_conn, http_conn);
KOTEL_EXPORT_TYPE(struct http_scratch, http_scratch);
KOTEL_EXPORT_TYPE(struct http_tls_key, http_tls_key);
KOTEL_EXPORT_TYPE(struct http_tls_call, http_tls_call);
KOTEL_EXPORT_TYPE(enum kotel_stat, kotel_stat);
KOTEL_EXPORT_TYPE(enum kotel_event_kind, kotel_event_kind);
KOTEL_EXPORT_TYPE(enum http_role, http_role);
KOTEL_EXPORT_TYPE(enum http_flag, http_flag);

/* The data of one socket call: where its first segment is, and where its data ends. */
struct io {
	__u64 buf;       /* first segment */
	__u64 len;       /* bytes of data in the first segment */
	__u64 end;       /* address just past the last data byte (for the chunked terminator) */
	__u64 ret;       /* bytes transferred */
};

#define LOWER8 0x2020202020202020ULL
#define W_CONTENT 0x2d746e65746e6f63ULL   /* "content-" */
#define W_LENGTH 0x3a6874676e656cULL      /* "length:" (7 bytes) */
#define W_TRANSFER 0x726566736e617274ULL  /* "transfer" */
#define W_TRACEPAR 0x7261706563617274ULL  /* "tracepar" */
#define W_CHUNKED 0x64656b6e756863ULL     /* "chunked" (7 bytes) */
#define W_HTTP1 0x2e312f50545448ULL       /* "HTTP/1." (7 bytes) */
#define M7 0x00ffffffffffffffULL

static __always_inline bool is_method(__u64 w)
{
	__u32 w4 = (__u32)w;
	if (w4 == 0x20544547 /* "GET " */ || w4 == 0x54534f50 /* "POST" */ || w4 == 0x20545550 /* "PUT " */)
		return true;
	if (w4 == 0x44414548 /* "HEAD" */ || w4 == 0x454c4544 /* "DELE" */ || w4 == 0x43544150 /* "PATC" */)
		return true;
	if (w4 == 0x4954504f /* "OPTI" */ || w4 == 0x4e4e4f43 /* "CONN" */ || w4 == 0x43415254 /* "TRAC" */)
		return true;
	return false;
}

static __always_inline bool is_response(__u64 w)
{
	return (w & M7) == W_HTTP1;
}

/* Whether a connection whose first request goes this way is followed (settings server, client). */
static __always_inline bool side_wanted(bool sending)
{
	return sending ? capture_client : capture_server;
}

static __always_inline struct pt_regs *task_regs(struct task_struct *task)
{
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* Resolves the user buffers of a read/write-family syscall from its number and arguments
 * (a1, a2: the second and third; the first, the fd, is not needed here). */
static __always_inline int syscall_io(__u64 nr, __u64 a1, __u64 a2, __u64 ret, struct io *io)
{
	struct iovec iov[2];
	struct user_msghdr msg;
	__u64 cnt;

	io->ret = ret;
	switch (nr) {
	case NR_read: case NR_write: case NR_sendto: case NR_recvfrom:
		io->buf = a1;
		io->len = ret < a2 ? ret : a2;
		io->end = a1 + io->len;
		return 0;
	case NR_readv: case NR_writev:
		cnt = a2;
		break;
	case NR_sendmsg: case NR_recvmsg:
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a1))
			return -1;
		a1 = (__u64)msg.msg_iov;
		cnt = msg.msg_iovlen;
		break;
	default:
		return -1;   /* sendfile, splice, io_uring, sendmmsg...: no buffer to read */
	}
	if (cnt == 0 || cnt > 1024)
		return -1;
	if (bpf_probe_read_user(&iov[0], sizeof(iov[0]), (void *)a1))
		return -1;
	io->buf = (__u64)iov[0].iov_base;
	io->len = ret < iov[0].iov_len ? ret : iov[0].iov_len;
	io->end = io->buf + io->len;
	if (cnt > 1 && bpf_probe_read_user(&iov[1], sizeof(iov[1]), (void *)(a1 + (cnt - 1) * sizeof(struct iovec))) == 0)
		io->end = (__u64)iov[1].iov_base + iov[1].iov_len;
	return 0;
}

/* Resolves the user buffers of the current read/write-family syscall from the task's registers. */
static __always_inline int current_io(struct pt_regs *regs, __u64 ret, struct io *io)
{
	/* bpf_task_pt_regs gives a typed pointer: plain loads, not three probe-read helper calls */
	return syscall_io(regs->orig_ax, regs->si, regs->dx, ret, io);
}

/* State of one scan over the window (bpf_loop context). */
struct scan_ctx {
	struct http_scratch *s;
	__u32 n;
	__u32 multi;
};

/* clang 14 has no way to allow misaligned loads on BPF: a load it cannot prove aligned becomes
 * eight byte loads and fourteen shifts and ors. The window is read by aligned words only. */
static __always_inline __u64 word_at(struct http_scratch *s, __u32 off8)
{
	return *(__u64 *)__builtin_assume_aligned(&s->buf[off8], 8);
}

/* Eight bytes at any offset below HTTP_WINDOW + 8, from the two aligned words around them. */
static __always_inline __u64 load8(struct http_scratch *s, __u32 off)
{
	__u32 a = off & (HTTP_WINDOW * 2 - 8), r = (off & 7) * 8;
	__u64 lo = word_at(s, a);

	if (!r)
		return lo;
	return (lo >> r) | (word_at(s, a + 8) << (64 - r));
}

/* One '\n' at offset i: a head end, or the start of a header kotel reads. Returns 1 to stop. */
static __always_inline long scan_at(struct scan_ctx *sc, struct http_scratch *s, __u32 i)
{
	__u32 n = sc->n;
	__u64 w;

	if (i == 0 || i >= HTTP_WINDOW || i + 2 >= n)
		return i + 2 >= n ? 1 : 0;
	barrier_var(i);
	i &= HTTP_WINDOW - 1;
	if (s->buf[i + 1] == '\r' && s->buf[i + 2] == '\n') {
		__u32 end = i + 3, k = s->nseg & (HTTP_PIPELINE - 1);
		s->ends[k] = end;
		s->tps[k] = s->tp_pos;
		s->nseg++;
		if (s->hdr_end == 0)
			s->hdr_end = end;
		if (!sc->multi || s->clen_pos || s->te_pos || s->nseg >= HTTP_PIPELINE || end + 8 > n)
			return 1;
		if (!is_method(load8(s, end & (HTTP_WINDOW - 1))))
			return 1;
		s->tp_pos = 0;
		return 0;
	}
	w = load8(s, i + 1) | LOWER8;
	if (w == W_CONTENT && ((load8(s, i + 9) | LOWER8) & M7) == W_LENGTH)
		s->clen_pos = i + 16;
	else if (w == W_TRANSFER)
		s->te_pos = i + 1;
	else if (w == W_TRACEPAR)
		s->tp_pos = i + 1;
	return 0;
}

#define NL8 0x0a0a0a0a0a0a0a0aULL
#define ONES8 0x0101010101010101ULL
#define HIGH8 0x8080808080808080ULL

/* Byte k (0..7) of the lowest set bit of a HIGH8-style mask: multiplying 1 << 8k by this constant
 * puts k in the top byte (BPF has no count-trailing-zeros). */
#define BYTE_INDEX 0x0001020304050607ULL

/* Every '\n' in the word at `off`: a word without one costs a load and four ALU ops. */
static __always_inline long scan_word(struct scan_ctx *sc, struct http_scratch *s, __u32 off)
{
	__u64 w = word_at(s, off), t = w ^ NL8;
	__u64 m = (t - ONES8) & ~t & HIGH8, low;
	__u32 k;

#pragma clang loop unroll(disable)
	for (int j = 0; j < 8; j++) {
		if (!m)
			return 0;
		low = m & -m;
		m &= m - 1;
		k = ((low >> 7) * BYTE_INDEX) >> 56;
		/* the mask can also flag a byte above a real '\n' (a borrow): check the byte itself */
		if (((w >> (8 * k)) & 0xff) == '\n' && scan_at(sc, s, off + k))
			return 1;
	}
	return 0;
}

#define SCAN_BLOCK 64   /* bytes per step */

/* One step scans 64 bytes (bpf_loop callback: verified once, inlined by the verifier). A step is
 * a call and a return, and returns are dear on this kernel (SRSO-safe return thunks): eight-byte
 * steps made the scan cost more than the rest of the program. */
static long scan_step(__u64 index, void *data)
{
	struct scan_ctx *sc = data;
	struct http_scratch *s = sc->s;
	__u32 base = index * SCAN_BLOCK;

	if (base >= HTTP_WINDOW || base >= sc->n)
		return 1;
	barrier_var(base);
	base &= HTTP_WINDOW - 1;
#pragma unroll
	for (int k = 0; k < SCAN_BLOCK / 8; k++) {
		if (base + 8 * k >= sc->n || scan_word(sc, s, base + 8 * k))
			return 1;
	}
	return 0;
}

/* One step of the scan as a global function: verified once, so the bounded loop below costs the
 * verifier a few calls instead of copies of the step. */
__noinline int scan_step_g(struct http_scratch *s, __u32 index, __u32 n, __u32 multi)
{
	struct scan_ctx sc = { .s = s, .n = n, .multi = multi };

	if (!s)
		return 1;
	return scan_step(index, &sc);
}

/* Finds the head's end and the headers kotel needs, in one pass over the window. With `multi`,
 * body-less heads followed by another request (pipelining) are all found, up to HTTP_PIPELINE. */
static __always_inline void scan_head(struct http_scratch *s, __u32 n, __u32 multi)
{
	struct scan_ctx sc = { .s = s, .n = n, .multi = multi };

	s->hdr_end = 0;
	s->clen_pos = 0;
	s->te_pos = 0;
	s->tp_pos = 0;
	s->nseg = 0;
	if (!no_loop_helper && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {
		bpf_loop(HTTP_WINDOW / SCAN_BLOCK, scan_step, &sc, 0);
		return;
	}
	/* before 5.17 (e.g. 5.15 LTS): the same steps in a bounded loop, verified per iteration */
	for (__u32 i = 0; i < HTTP_WINDOW / SCAN_BLOCK; i++) {
		if (scan_step_g(s, i, n, multi))
			break;
	}
}

static __always_inline __s64 parse_content_length(struct http_scratch *s, __u32 n)
{
	__s64 v = 0;
	__u32 pos = s->clen_pos;
	bool digits = false;

	for (int k = 0; k < 24; k++) {
		__u32 i = pos + k;
		if (i >= n || i >= HTTP_WINDOW)
			break;
		barrier_var(i);
		char c = s->buf[i & (HTTP_WINDOW - 1)];
		if (c == ' ' || c == '\t') {
			if (digits)
				break;
			continue;
		}
		if (c < '0' || c > '9')
			break;
		digits = true;
		v = v * 10 + (c - '0');
	}
	return digits ? v : -1;
}

static __always_inline bool header_is_chunked(struct http_scratch *s)
{
	/* "transfer-encoding: chunked" or "transfer-encoding:chunked" */
	__u32 p = s->te_pos;
	if (p == 0 || p + 28 >= HTTP_WINDOW)
		return false;
	barrier_var(p);
	p &= HTTP_WINDOW - 1;
	if (((load8(s, p + 19) | LOWER8) & M7) == W_CHUNKED)
		return true;
	return ((load8(s, p + 18) | LOWER8) & M7) == W_CHUNKED;
}

static __always_inline int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* "traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>" into s->tp_*; global: verified once. */
__noinline int parse_traceparent_g(struct http_scratch *s, __u32 n)
{
	__u8 *trace_id, *span_id;
	__u32 p;
	__u8 nonzero = 0;

	if (!s)
		return 0;
	p = s->tp_pos;
	trace_id = s->tp_trace_id;
	span_id = s->tp_span_id;
	if (p == 0)
		return false;
	p += 12;                                  /* past "traceparent:" */
	if (p < HTTP_WINDOW && s->buf[p] == ' ')
		p++;
	if (p + 55 > n || p + 55 > HTTP_WINDOW)
		return false;
	barrier_var(p);
	p &= HTTP_WINDOW - 1;
	if (s->buf[p] != '0' || s->buf[p + 1] != '0' || s->buf[p + 2] != '-' || s->buf[p + 35] != '-' || s->buf[p + 52] != '-')
		return false;
	for (int k = 0; k < 16; k++) {
		int hi = hexval(s->buf[p + 3 + 2 * k]), lo = hexval(s->buf[p + 4 + 2 * k]);
		if (hi < 0 || lo < 0)
			return false;
		trace_id[k] = (hi << 4) | lo;
		nonzero |= trace_id[k];
	}
	if (!nonzero)
		return false;
	nonzero = 0;
	for (int k = 0; k < 8; k++) {
		int hi = hexval(s->buf[p + 36 + 2 * k]), lo = hexval(s->buf[p + 37 + 2 * k]);
		if (hi < 0 || lo < 0)
			return false;
		span_id[k] = (hi << 4) | lo;
		nonzero |= span_id[k];
	}
	return nonzero != 0;
}

static __always_inline bool parse_traceparent(struct http_scratch *s, __u32 n, __u8 *trace_id, __u8 *span_id)
{
	if (!parse_traceparent_g(s, n))
		return false;
	__builtin_memcpy(trace_id, s->tp_trace_id, 16);
	__builtin_memcpy(span_id, s->tp_span_id, 8);
	return true;
}

/* 64 random bits per call: one helper call per 32 bits cost more than the rest of on_request's id
 * work (six calls per request side). The per-CPU state lives in scratch, seeded once from prandom. */
static __always_inline __u64 next_random(struct http_scratch *s)
{
	__u64 a = s->rng[0], b = s->rng[1];

	if (!(a | b)) {
		a = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
		b = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32() | 1;
	}
	s->rng[0] = b;
	a ^= a << 23;
	a ^= a >> 17;
	a ^= b ^ (b >> 26);
	s->rng[1] = a;
	return a + b;
}

/* A random id of `words` 64-bit words, never all zero. */
static __always_inline void random_id(struct http_scratch *s, __u8 *id, int words)
{
	for (int k = 0; k < words; k++) {
		__u64 r = next_random(s);
		if (k == 0)
			r |= 1;
		__builtin_memcpy(id + 8 * k, &r, 8);
	}
}

/* Reads the window of the call's first segment into scratch; returns the bytes read. */
static __always_inline __u32 read_window(struct http_scratch *s, struct io *io)
{
	__u64 n = io->len;
	if (n > HTTP_WINDOW)
		n = HTTP_WINDOW;
	/* clamp right before the read: the verifier needs the bound on this register */
	n &= (HTTP_WINDOW * 2 - 1);
	if (n > HTTP_WINDOW)
		n = HTTP_WINDOW;
	if (n == 0 || bpf_probe_read_user(s->buf, n, (void *)io->buf))
		return 0;
	/* parsing never reads stale bytes as data (a full window ends at HTTP_WINDOW, not at 0) */
	if (n < HTTP_WINDOW)
		*(__u64 *)&s->buf[n & (HTTP_WINDOW - 1)] = 0;
	else
		*(__u64 *)&s->buf[HTTP_WINDOW] = 0;
	return n;
}

/* The local port. A socket's close (TCP_CLOSE) releases its port binding and zeroes skc_num;
 * inet_sport keeps the port the connection used (data may still be read after a reset). */
static __always_inline __u16 local_port(struct sock *sk)
{
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);

	if (port)
		return port;
	return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

/* Side, then port (settings ports): the server's port is the peer's when this side sends, else the
 * local one. Read only when ports are listed: the test runs for every socket call without state. */
static __always_inline bool selected(struct sock *sk, bool sending)
{
	__u16 port;

	if (!side_wanted(sending))
		return false;
	if (any_port)
		return true;
	port = sending ? bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) : local_port(sk);
	return port_set[(port >> 3) & 8191] & (1 << (port & 7));
}

static __always_inline void fill_tuple(struct http_conn *c, struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	c->family = family;
	c->lport = sk->__sk_common.skc_num ?: local_port(sk);
	c->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (family == AF_INET) {
		__builtin_memcpy(c->laddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(c->raddr, &sk->__sk_common.skc_daddr, 4);
		__builtin_memset(c->laddr + 4, 0, 12);
		__builtin_memset(c->raddr + 4, 0, 12);
	} else {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr);
	}
}

static __always_inline void thread_leave(__u32 tid)
{
	struct kotel_thread_ctx *th = bpf_map_lookup_elem(&thread_ctx, &tid);
	if (th && th->active > 0 && __sync_fetch_and_sub(&th->active, 1) == 1)
		th->ambiguous = 0;
}

/* The thread starts serving a request: with another still open, neither is "the" request. */
static __always_inline void thread_enter(__u32 tid, __u8 *trace_id, __u8 *span_id)
{
	struct kotel_thread_ctx *th, zero = {};

	th = bpf_map_lookup_elem(&thread_ctx, &tid);
	if (!th) {
		bpf_map_update_elem(&thread_ctx, &tid, &zero, BPF_NOEXIST);
		th = bpf_map_lookup_elem(&thread_ctx, &tid);
	}
	if (!th) {
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
		return;
	}
	if (__sync_fetch_and_add(&th->active, 1) > 0)
		th->ambiguous = 1;
	__builtin_memcpy(th->trace_id, trace_id, 16);
	__builtin_memcpy(th->span_id, span_id, 8);
}

/* A head is kept as HTTP_HEAD_MAX bytes ended by a zero where it is shorter (user space stops there). */
static __always_inline void terminate_head(char *head, __u16 len)
{
	if (len < HTTP_HEAD_MAX)
		head[len & (HTTP_HEAD_MAX - 1)] = 0;
}

/* The head at the start of the scratch window, as aligned words. */
static __always_inline void copy_window_head(char *dst, struct http_scratch *s, __u16 len)
{
	__builtin_memcpy(dst, __builtin_assume_aligned(s->buf, 8), HTTP_HEAD_MAX);
	terminate_head(dst, len);
}

/* Sends the oldest waiting request with the current response, and pops it. `head`: the scratch
 * window when it holds the response head (the exchange ends in the call that carried it: no copy
 * into the connection first), else NULL. Global: verified once. */
__noinline int emit_g(struct http_conn *c, struct http_scratch *head, __u64 end_ns, __u32 extra_flags)
{
	struct http_pending *p;
	struct http_event *ev;
	__u32 idx, n;

	if (!c || c->q_len == 0)
		return 0;
	idx = c->q_head & (HTTP_PIPELINE - 1);
	p = &c->q[idx];
	if (c->role == HTTP_ROLE_SERVER)
		thread_leave(p->tid);
	ev = kotel_reserve(&events, ev, KOTEL_EVENT_HTTP_EXCHANGE, end_ns);
	if (!ev)
		goto pop;
	ev->start_ns = p->start_ns;
	ev->end_ns = end_ns;
	ev->req_bytes = p->bytes;
	ev->resp_bytes = c->resp_bytes;
	__builtin_memcpy(ev->trace_id, p->trace_id, 16);
	__builtin_memcpy(ev->span_id, p->span_id, 8);
	__builtin_memcpy(ev->parent_id, p->parent_id, 8);
	ev->tgid = c->tgid;
	ev->tid = p->tid;
	ev->family = c->family;
	ev->lport = c->lport;
	ev->rport = c->rport;
	__builtin_memcpy(ev->laddr, c->laddr, 16);
	__builtin_memcpy(ev->raddr, c->raddr, 16);
	ev->status = c->status;
	ev->req_head_len = p->head_len;
	ev->resp_head_len = c->resp_state ? c->resp_head_len : 0;
	ev->req_hdr_end = p->hdr_end;
	ev->resp_hdr_end = c->resp_state ? c->resp_hdr_end : 0;
	ev->role = c->role;
	ev->flags = p->flags | extra_flags | c->flags;
	__builtin_memset(ev->_pad, 0, sizeof(ev->_pad));
	__builtin_memcpy(ev->comm, c->comm, sizeof(ev->comm));
	__builtin_memcpy(ev->req_head, p->head, HTTP_HEAD_MAX);
	if (c->resp_state && head) {
		copy_window_head(ev->resp_head, head, c->resp_head_len);
	} else if (c->resp_state)
		__builtin_memcpy(ev->resp_head, c->resp_head, HTTP_HEAD_MAX);
	else
		__builtin_memset(ev->resp_head, 0, HTTP_HEAD_MAX);
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	kotel_stat_add(KOTEL_STAT_RECORDS_SENT, 1);
pop:
	n = c->q_len;
	c->q_len = n > 0 ? n - 1 : 0;
	c->q_head++;
	c->resp_state = 0;
	c->resp_bytes = 0;
	c->status = 0;
	return 0;
}

/* A request (its first bytes) leaves (client) or arrives (server). */
/* Queues the request whose head starts at `start` (segment `seg` of the window's scan). */
__noinline int on_request(struct http_conn *c, struct http_scratch *s, __u32 seg, __u32 start)
{
	struct http_pending *p;
	__u32 idx, hs = req_head_size, end, n, tid;
	__u64 ret, now;

	if (!c || !s)
		return 0;
	n = s->n;
	ret = s->ret;
	tid = s->tid;
	now = s->now;
	if (c->q_len >= HTTP_PIPELINE) {
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
		return 0;
	}
	start &= HTTP_WINDOW - 1;
	seg &= HTTP_PIPELINE - 1;
	end = seg < s->nseg ? s->ends[seg] : 0;
	s->tp_pos = seg < s->nseg ? s->tps[seg] : s->tp_pos;
	idx = (c->q_head + c->q_len) & (HTTP_PIPELINE - 1);
	p = &c->q[idx];
	p->start_ns = now;
	/* a pipelined head that is not the last one ends where the next begins */
	p->bytes = seg + 1 < s->nseg && end > start ? end - start : ret - start;
	p->tid = tid;
	p->flags = 0;
	p->hdr_end = end > start ? end - start : 0;
	if (hs > HTTP_HEAD_MAX)
		hs = HTTP_HEAD_MAX;
	p->head_len = n - start < hs ? n - start : hs;
	if (seg + 1 < s->nseg && end > start && end - start < p->head_len)
		p->head_len = end - start;
	if (start == 0) {   /* the common case (a pipelined head may start anywhere) */
		copy_window_head(p->head, s, p->head_len);
	} else {
		__builtin_memcpy(p->head, &s->buf[start], HTTP_HEAD_MAX);
		terminate_head(p->head, p->head_len);
	}
	__builtin_memset(p->parent_id, 0, 8);

	if (c->role == HTTP_ROLE_SERVER) {
		if (parse_traceparent(s, n, p->trace_id, p->parent_id))
			p->flags |= HTTP_F_REMOTE_PARENT;
		else
			random_id(s, p->trace_id, 2);
		random_id(s, p->span_id, 1);
		thread_enter(tid, p->trace_id, p->span_id);
	} else {
		if (kotel_thread_ctx_current(&thread_ctx, tid, p->trace_id, p->parent_id)) {
			random_id(s, p->span_id, 1);
			p->flags |= HTTP_F_KERNEL_PARENT;
		} else if (parse_traceparent(s, n, p->trace_id, p->span_id)) {
			p->flags |= HTTP_F_OWN_TRACEPARENT;
		} else {
			random_id(s, p->trace_id, 2);
			random_id(s, p->span_id, 1);
		}
	}
	c->q_len++;
	return 0;
}

/* Reads the 5 bytes that end this call's data: "0\r\n\r\n" ends a chunked body. */
static __always_inline bool ends_chunked(struct http_scratch *s, __u32 n, struct io *io)
{
	char t[8] = {};

	if (io->len == io->ret && io->len == n && n >= 5 && n <= HTTP_WINDOW) {
		__u32 at = (n - 5) & (HTTP_WINDOW - 1);
		__builtin_memcpy(t, &s->buf[at], 5);
	} else if (io->end >= 5) {
		if (bpf_probe_read_user(t, 5, (void *)(io->end - 5)))
			return false;
	}
	return t[0] == '0' && t[1] == '\r' && t[2] == '\n' && t[3] == '\r' && t[4] == '\n';
}

/* Data in the response direction. */
static __always_inline void on_response_data(struct http_conn *c, struct http_scratch *s,
					     struct io *io, bool have_io, __u64 now)
{
	__u32 n = 0;

	if (c->q_len == 0)
		return;   /* no request waiting: not an exchange we saw begin */
	if (c->resp_state == 0) {
		__u64 w = 0;
		__u32 hs = resp_head_size;
		__s64 clen;
		__u32 body;

		if (!have_io)
			return;
		n = read_window(s, io);
		if (n < 12)
			return;
		w = word_at(s, 0);
		if (!is_response(w))
			return;
		c->status = (s->buf[9] - '0') * 100 + (s->buf[10] - '0') * 10 + (s->buf[11] - '0');
		if (c->status < 200 && c->status >= 100)
			return;   /* interim response (100 Continue): the final one follows */
		scan_head(s, n, 0);
		c->resp_state = 1;
		c->resp_start_ns = now;
		c->resp_last_ns = now;
		c->resp_bytes = io->ret;
		c->resp_hdr_end = s->hdr_end;
		if (hs > HTTP_HEAD_MAX)
			hs = HTTP_HEAD_MAX;
		c->resp_head_len = n < hs ? n : hs;
		c->resp_chunked = header_is_chunked(s);
		c->resp_remaining = -1;
		if (s->hdr_end == 0)
			goto keep_head;   /* head longer than the window: ended by the next response or the close */
		body = io->ret > s->hdr_end ? io->ret - s->hdr_end : 0;
		{
			/* no body: 1xx, 204, 304, or a HEAD request */
			struct http_pending *p = &c->q[c->q_head & (HTTP_PIPELINE - 1)];
			if (c->status == 204 || c->status == 304 || *(__u32 *)p->head == 0x44414548) {
				emit_g(c, s, now, 0);
				return;
			}
		}
		if (c->resp_chunked) {
			if (body >= 5 && ends_chunked(s, n, io)) {
				emit_g(c, s, now, 0);
				return;
			}
			goto keep_head;
		}
		clen = s->clen_pos ? parse_content_length(s, n) : -1;
		if (clen >= 0) {
			c->resp_remaining = clen - body;
			if (c->resp_remaining <= 0) {
				emit_g(c, s, now, 0);
				return;
			}
		}
keep_head:
		/* the body follows in later calls: the head waits in the connection */
		copy_window_head(c->resp_head, s, c->resp_head_len);
		return;
	}
	/* body bytes */
	c->resp_bytes += io->ret;
	c->resp_last_ns = now;
	if (c->resp_remaining >= 0) {
		c->resp_remaining -= io->ret;
		if (c->resp_remaining <= 0)
			emit_g(c, NULL, now, 0);
	} else if (c->resp_chunked && have_io) {
		if (ends_chunked(s, 0, io))
			emit_g(c, NULL, now, 0);
	}
}

static __always_inline bool skip_task(struct task_struct *task, __u32 *tgid, __u32 *tid)
{
	if (task->flags & PF_KTHREAD)
		return true;
	if (bpf_core_field_exists(task->thread_info.status) && (task->thread_info.status & 0x0002 /* TS_COMPAT */))
		return true;
	*tgid = task->tgid;
	*tid = task->pid;
	return *tgid == self_tgid;
}

/* Data of one call on a connection kotel follows: the same pairing for socket I/O and for the
 * plaintext of SSL_read/SSL_write. */
static __always_inline void on_data(struct http_conn *c, struct http_scratch *s, struct io *io, bool have_io,
				    bool sending, __u32 tid, __u64 now)
{
	__u32 n;

	kotel_stat_add(KOTEL_STAT_EVENTS_SEEN, 1);
	if ((c->role == HTTP_ROLE_CLIENT) != sending) {
		on_response_data(c, s, io, have_io, now);
		return;
	}
	/* request direction: a new request, or more bytes of the last one */
	if (have_io && io->len >= 8) {
		n = read_window(s, io);
		if (n >= 8 && is_method(word_at(s, 0))) {
			__u32 segs;
			scan_head(s, n, 1);
			s->n = n;
			s->ret = io->ret;
			s->tid = tid;
			s->now = now;
			segs = s->nseg ? s->nseg : 1;
#pragma clang loop unroll(disable)
			for (__u32 k = 0; k < HTTP_PIPELINE; k++) {
				if (k >= segs)
					break;
				on_request(c, s, k, k ? s->ends[(k - 1) & (HTTP_PIPELINE - 1)] : 0);
			}
			return;
		}
	}
	if (c->q_len > 0) {
		struct http_pending *p = &c->q[(c->q_head + c->q_len - 1) & (HTTP_PIPELINE - 1)];
		p->bytes += io->ret;
	}
}

/* The connection ends: a response without length is complete; what still waits is an error.
 * `half`: the peer only half-closed and may still read the answer. */
static __always_inline void end_conn(struct http_conn *c, bool half)
{
	__u64 now;

	if (c->q_len == 0)
		return;
	now = bpf_ktime_get_ns();
	if (c->resp_state && c->resp_remaining < 0 && !c->resp_chunked)
		emit_g(c, NULL, c->resp_last_ns > c->resp_start_ns ? c->resp_last_ns : c->resp_start_ns, HTTP_F_CLOSE_DELIMITED);
	if (half)
		return;
	for (int k = 0; k < HTTP_PIPELINE; k++) {
		if (c->q_len == 0)
			break;
		emit_g(c, NULL, now, HTTP_F_CLOSED);
	}
}

/* The 4-tuple from a socket pointer that may be untrusted (probe reads). */
static __always_inline bool fill_tuple_probed(struct http_conn *c, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return false;
	c->lport = local_port(sk);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr), r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memset(c->laddr, 0, 16);
		__builtin_memset(c->raddr, 0, 16);
		__builtin_memcpy(c->laddr, &l, 4);
		__builtin_memcpy(c->raddr, &r, 4);
	} else {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr);
	}
	c->family = family;   /* last: a non-zero family means the tuple is known */
	return true;
}

/* Binds a TLS connection to its socket: the 4-tuple, and the socket's close ends it. */
static __always_inline void tls_bind(struct http_conn *c, struct http_tls_key *key, struct sock *sk)
{
	__u64 addr = (__u64)sk;

	if (!fill_tuple_probed(c, sk))
		return;
	if (bpf_map_update_elem(&tls_by_sk, &addr, key, BPF_ANY))
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
}

/* Both ports in one read: skc_portpair is skc_dport (network order) then skc_num, little-endian. */
static __always_inline bool same_ports(struct http_conn *c, struct sock *sk)
{
	__u32 pair = BPF_CORE_READ(sk, __sk_common.skc_portpair);
	__u16 num = pair >> 16;

	if (c->rport != bpf_ntohs((__u16)pair))
		return false;
	return c->lport == (num ?: local_port(sk));
}

/* Socket I/O that is not HTTP by a thread that calls SSL_read/SSL_write tells which socket
 * carries which SSL*. Socket BIO (nginx, curl): the I/O happens inside the call. Memory BIO
 * (node): the socket is read just before SSL_read and written just after SSL_write. */
static __always_inline void tls_note_socket(struct sock *sk, bool sending, __u32 tgid, __u32 tid)
{
	struct http_tls_call *t = bpf_map_lookup_elem(&tls_calls, &tid);
	struct http_tls_key key = {};
	struct http_conn *c;

	if (!t)
		return;
	if (t->active) {
		t->sk_in_call = (__u64)sk;
		return;
	}
	if (!sending) {
		t->sk_recv = (__u64)sk;
		return;
	}
	if (!t->ssl_unbound)
		return;
	key.tgid = tgid;
	key.ssl = t->ssl_unbound;
	t->ssl_unbound = 0;
	c = bpf_map_lookup_elem(&tls_conns, &key);
	if (c && !c->family)
		tls_bind(c, &key, sk);
}

/* A socket bound to a TLS connection closes: end the connection's exchanges. */
static __always_inline void tls_sock_closed(struct sock *sk, int newstate)
{
	__u64 addr = (__u64)sk;
	struct http_tls_key *k = bpf_map_lookup_elem(&tls_by_sk, &addr), key;
	struct http_conn *c;
	bool own;

	if (!k)
		return;
	key = *k;
	c = bpf_map_lookup_elem(&tls_conns, &key);
	/* the SSL* may serve another socket by now: only its own socket's close ends it */
	own = c && same_ports(c, sk);
	if (own)
		end_conn(c, newstate == TCP_CLOSE_WAIT);
	if (newstate != TCP_CLOSE)
		return;
	bpf_map_delete_elem(&tls_by_sk, &addr);
	if (own)
		bpf_map_delete_elem(&tls_conns, &key);
}

static __always_inline int handle(struct sock *sk, int ret, bool sending)
{
	struct task_struct *task;
	struct http_scratch *s;
	struct http_conn *c;
	struct io io = {};
	__u32 zero = 0, tgid, tid;
	__u64 w = 0;
	bool have_io;

	if (ret <= 0 || !sk)
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (sk->__sk_common.skc_family != AF_INET && sk->__sk_common.skc_family != AF_INET6)
		return 0;
	task = bpf_get_current_task_btf();
	if (skip_task(task, &tgid, &tid))
		return 0;
	have_io = current_io(task_regs(task), (__u64)ret, &io) == 0;

	c = bpf_sk_storage_get(&conns, sk, 0, 0);
	if (!c) {
		/* selection, then protocol detection, before any map work: only a request opens an exchange */
		if (!selected(sk, sending) || !have_io || io.len < 8 || bpf_probe_read_user(&w, 8, (void *)io.buf) || !is_method(w)) {
			if (tls_enabled)
				tls_note_socket(sk, sending, tgid, tid);   /* encrypted bytes end here */
			return 0;
		}
		c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!c) {
			kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
			return 0;
		}
		c->role = sending ? HTTP_ROLE_CLIENT : HTTP_ROLE_SERVER;
		c->tgid = tgid;
		bpf_get_current_comm(c->comm, sizeof(c->comm));
		fill_tuple(c, sk);
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	on_data(c, s, &io, have_io, sending, tid, bpf_ktime_get_ns());
	/* Data read after a reset (the socket is already closed, its close already seen): nothing
	 * else will end the request it carried. */
	if (sk->__sk_common.skc_state == TCP_CLOSE)
		end_conn(c, false);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_btf, struct sock *sk, int ret, int flags)
{
	return handle(sk, ret, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_btf, struct sock *sk, int ret, int flags)
{
	if (flags & MSG_PEEK)
		return 0;
	return handle(sk, ret, false);
}

/* Connection state changes: a close ends what is still open. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state_btf, struct sock *sk, int oldstate, int newstate)
{
	struct http_conn *c;

	if (newstate != TCP_CLOSE && newstate != TCP_FIN_WAIT1 && newstate != TCP_CLOSE_WAIT)
		return 0;
	c = bpf_sk_storage_get(&conns, sk, 0, 0);
	if (c)
		end_conn(c, newstate == TCP_CLOSE_WAIT);
	else if (tls_enabled)
		tls_sock_closed(sk, newstate);
	return 0;
}

/* ---- Fallback for kernels without sock:sock_send_length/sock_recv_length (added in 6.3) ----
 * The same pairing from syscall exits: raw_tp (or the classic tracepoint) raw_syscalls/sys_exit,
 * where the arguments are still in the saved registers (x86_64: di = fd, si = buf, dx = len,
 * orig_ax = nr). The socket comes from the task's fd table; per-connection state is kept in an
 * LRU hash keyed by the socket's address (not by (tgid, fd): dup'd fds, fds shared between
 * processes and threads, and reads and writes on two threads all meet on one socket), and
 * deleted when the socket reaches TCP_CLOSE, so a reused fd, or a reused socket address, starts
 * clean. inet_sock_set_state (4.16) ends connections as on the sock path. */

#define S_IFMT 00170000
#define S_IFSOCK 0140000

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);      /* set from the config (max_connections) */
	__type(key, __u64);             /* struct sock address */
	__type(value, struct http_conn);
} sk_conns SEC(".maps");

/* Saved user registers from r10 to di (x86_64 pt_regs order), read in one probe read. */
struct sys_args {
	__u64 r10, r9, r8, ax, cx, dx, si, di;
};

/* Direction of a syscall kotel follows: 1 sends, 0 receives, -1 not followed. */
static __always_inline int sys_direction(__u64 nr)
{
	switch (nr) {
	case NR_write: case NR_writev: case NR_sendto: case NR_sendmsg: case NR_sendfile:
		return 1;
	case NR_read: case NR_readv: case NR_recvfrom: case NR_recvmsg:
		return 0;
	default:
		return -1;
	}
}

/* The socket behind `fd` of the current task, or NULL when it is not a socket:
 * task->files->fdt->fd[fd] -> file; S_IFSOCK in f_inode->i_mode; private_data -> socket -> sk. */
static __always_inline struct sock *fd_sock(struct task_struct *task, __u64 fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	struct file *file = NULL;
	struct socket *sock;
	struct inode *inode;
	struct file **fds;
	__u16 mode;

	if (!files)
		return NULL;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

static __always_inline int sys_exit_io(__u64 regs, __u64 nr, long ret, int dir)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct http_scratch *s;
	struct sys_args a;
	struct http_conn *c;
	struct io io = {};
	struct sock *sk;
	__u32 zero = 0, tgid, tid;
	__u64 key, w = 0;
	bool have_io, sending = dir == 1, fresh = false;
	__u16 proto, family;

	if (skip_task(task, &tgid, &tid))
		return 0;
	if (bpf_probe_read_kernel(&a, sizeof(a), (void *)(regs + __builtin_offsetof(struct pt_regs, r10))))
		return 0;
	/* a peek leaves the data for the next read (recvfrom: flags in r10; recvmsg: in dx) */
	if ((nr == NR_recvfrom && (a.r10 & MSG_PEEK)) || (nr == NR_recvmsg && (a.dx & MSG_PEEK)))
		return 0;
	sk = fd_sock(task, a.di);
	if (!sk)
		return 0;
	proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (proto != IPPROTO_TCP || (family != AF_INET && family != AF_INET6))
		return 0;
	have_io = syscall_io(nr, a.si, a.dx, (__u64)ret, &io) == 0;

	key = (__u64)sk;
	c = bpf_map_lookup_elem(&sk_conns, &key);
	if (c && !same_ports(c, sk)) {
		/* State of an earlier socket at this address whose close was not seen after its last
		 * data (the close hook fires just before the state is stored): end it, start clean. */
		end_conn(c, false);
		bpf_map_delete_elem(&sk_conns, &key);
		c = NULL;
	}
	if (!c) {
		/* selection, then protocol detection, before any map update: only a request opens an exchange */
		if (!selected(sk, sending) || !have_io || io.len < 8 || bpf_probe_read_user(&w, 8, (void *)io.buf) || !is_method(w)) {
			if (tls_enabled)
				tls_note_socket(sk, sending, tgid, tid);   /* encrypted bytes end here */
			return 0;
		}
		c = bpf_map_lookup_elem(&conn_zero, &zero);
		if (!c || bpf_map_update_elem(&sk_conns, &key, c, BPF_NOEXIST)) {
			kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
			return 0;
		}
		c = bpf_map_lookup_elem(&sk_conns, &key);
		if (!c)
			return 0;
		c->role = sending ? HTTP_ROLE_CLIENT : HTTP_ROLE_SERVER;
		c->tgid = tgid;
		bpf_get_current_comm(c->comm, sizeof(c->comm));
		fill_tuple_probed(c, sk);
		fresh = true;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	on_data(c, s, &io, have_io, sending, tid, bpf_ktime_get_ns());
	/* Data read after a reset: the close (and the delete) came first, so the state is new here;
	 * end it and drop it, or a later socket at this address would inherit it. */
	if (fresh && BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE) {
		end_conn(c, false);
		bpf_map_delete_elem(&sk_conns, &key);
	}
	return 0;
}

/* raw_tp sys_exit(struct pt_regs *regs, long ret): fires for every syscall, so the free tests
 * (return value, then the number: one 8-byte read) come before anything else. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];
	__u64 regs = ctx->args[0], nr = 0;
	int dir;

	if (ret <= 0)
		return 0;
	if (bpf_probe_read_kernel(&nr, sizeof(nr), (void *)(regs + __builtin_offsetof(struct pt_regs, orig_ax))))
		return 0;
	if (nr >= 512 || (dir = sys_direction(nr)) < 0)
		return 0;
	return sys_exit_io(regs, nr, ret, dir);
}

/* Classic tracepoint raw_syscalls/sys_exit: the number is in the record, the registers are the task's. */
SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;
	__u64 nr = ctx->id;
	int dir;

	if (ret <= 0 || nr >= 512 || (dir = sys_direction(nr)) < 0)
		return 0;
	return sys_exit_io((__u64)task_regs(bpf_get_current_task_btf()), nr, ret, dir);
}

/* A close ends what is still open; at TCP_CLOSE the state goes (the socket address may be reused). */
static __always_inline int sys_sock_state(__u64 addr, int newstate)
{
	struct http_conn *c;

	if (newstate != TCP_CLOSE && newstate != TCP_FIN_WAIT1 && newstate != TCP_CLOSE_WAIT)
		return 0;
	c = bpf_map_lookup_elem(&sk_conns, &addr);
	if (c) {
		end_conn(c, newstate == TCP_CLOSE_WAIT);
		if (newstate == TCP_CLOSE)
			bpf_map_delete_elem(&sk_conns, &addr);
	} else if (tls_enabled) {
		tls_sock_closed((struct sock *)addr, newstate);
	}
	return 0;
}

SEC("raw_tracepoint/inet_sock_set_state")
int sock_state_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return sys_sock_state(ctx->args[0], (int)ctx->args[2]);
}

SEC("tracepoint/sock/inet_sock_set_state")
int sock_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return sys_sock_state((__u64)ctx->skaddr, ctx->newstate);
}

/* HTTPS: uprobes on OpenSSL's SSL_read/SSL_write (ssl, buf, num) and SSL_read_ex/SSL_write_ex
 * (ssl, buf, num, size_t *bytes; > 0 on success) — or on the internal functions both call, which
 * take the _ex arguments — in libssl and in binaries that link it statically (node). The entry
 * remembers the call per thread; the return reads the plaintext. */
static __always_inline int ssl_enter(struct pt_regs *ctx, bool sending, bool ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct http_tls_call *t;

	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	t = bpf_map_lookup_elem(&tls_calls, &tid);
	if (!t) {
		struct http_tls_call zero = {};
		bpf_map_update_elem(&tls_calls, &tid, &zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&tls_calls, &tid);
		if (!t) {
			kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
			return 0;
		}
	}
	t->ssl = PT_REGS_PARM1(ctx);
	t->buf = PT_REGS_PARM2(ctx);
	t->lenp = ex ? PT_REGS_PARM4(ctx) : 0;
	t->sp = PT_REGS_SP(ctx);
	t->sk_in_call = 0;
	t->sending = sending;
	t->active = 1;
	return 0;
}

SEC("uprobe")
int ssl_read_enter(struct pt_regs *ctx) { return ssl_enter(ctx, false, false); }

SEC("uprobe")
int ssl_write_enter(struct pt_regs *ctx) { return ssl_enter(ctx, true, false); }

SEC("uprobe")
int ssl_read_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, false, true); }

SEC("uprobe")
int ssl_write_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, true, true); }

SEC("uretprobe")
int ssl_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), bytes = 0, sk, w = 0;
	__u32 tid = (__u32)id, zero = 0;
	int rc = (int)PT_REGS_RC(ctx);   /* int: the upper half of rax is undefined */
	struct http_tls_call *t = bpf_map_lookup_elem(&tls_calls, &tid);
	struct http_tls_key key = {};
	struct http_scratch *s;
	struct http_conn *c;
	struct io io = {};
	bool sending;

	/* only the return of the call whose entry was recorded (the return address is popped) */
	if (!t || !t->active || PT_REGS_SP(ctx) != t->sp + 8)
		return 0;
	t->active = 0;
	sending = t->sending;
	sk = t->sk_in_call;
	if (!sending) {
		if (!sk)
			sk = t->sk_recv;
		t->sk_recv = 0;   /* consumed: never lent to another SSL* */
	}
	if (t->lenp) {
		if (rc <= 0 || bpf_probe_read_user(&bytes, sizeof(bytes), (void *)t->lenp))
			return 0;
	} else if (rc > 0) {
		bytes = rc;
	}
	if (bytes == 0)
		return 0;
	key.tgid = id >> 32;
	key.ssl = t->ssl;
	io.buf = t->buf;
	io.len = bytes;
	io.end = io.buf + bytes;
	io.ret = bytes;
	c = bpf_map_lookup_elem(&tls_conns, &key);
	if (!c) {
		/* the port is checked where the socket is known: here if it is, else in user space */
		if (sk ? !selected((struct sock *)sk, sending) : !side_wanted(sending))
			return 0;
		if (bytes < 8 || bpf_probe_read_user(&w, 8, (void *)io.buf) || !is_method(w))
			return 0;   /* only a request opens an exchange */
		c = bpf_map_lookup_elem(&conn_zero, &zero);
		if (!c)
			return 0;
		if (bpf_map_update_elem(&tls_conns, &key, c, BPF_ANY)) {
			kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
			return 0;
		}
		c = bpf_map_lookup_elem(&tls_conns, &key);
		if (!c)
			return 0;
		c->role = sending ? HTTP_ROLE_CLIENT : HTTP_ROLE_SERVER;
		c->tgid = key.tgid;
		bpf_get_current_comm(c->comm, sizeof(c->comm));
		c->flags = HTTP_F_TLS;
	}
	if (c->family && sk && !same_ports(c, (struct sock *)sk)) {
		/* the SSL* now serves another socket (reused without an SSL_free kotel saw): start clean */
		end_conn(c, false);
		c->family = 0;
	}
	if (!c->family) {
		if (sk)
			tls_bind(c, &key, (struct sock *)sk);
		else if (sending)
			t->ssl_unbound = key.ssl;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	on_data(c, s, &io, true, sending, tid, bpf_ktime_get_ns());
	return 0;
}

/* SSL_free(ssl) and SSL_shutdown(ssl): the connection ends; a reused SSL* starts clean. */
SEC("uprobe")
int ssl_free_enter(struct pt_regs *ctx)
{
	struct http_tls_key key = {};
	struct http_conn *c;

	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.ssl = PT_REGS_PARM1(ctx);
	c = bpf_map_lookup_elem(&tls_conns, &key);
	if (!c)
		return 0;
	end_conn(c, false);
	bpf_map_delete_elem(&tls_conns, &key);
	return 0;
}
