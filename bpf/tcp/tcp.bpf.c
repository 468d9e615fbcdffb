// SPDX-License-Identifier: GPL-2.0
/* TCP connections from tracepoints only (no kprobes): sock:inet_sock_set_state for the lifecycle,
 * sock:sock_send_length / sock_recv_length for bytes, tcp:tcp_retransmit_skb, tcp:tcp_receive_reset,
 * tcp:tcp_send_reset. Per-socket counters live in SK_STORAGE; records carry deltas, so user space
 * sums them exactly. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcp.h"
#include "kotel_stats.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define MSG_PEEK 2

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 self_tgid = 0;
const volatile __u64 flush_ns = 1000000000ULL;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_sock_state);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tcp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

KOTEL_STATS_MAP();
KOTEL_EXPORT_TYPE(struct tcp_event, tcp_event);
KOTEL_EXPORT_TYPE(struct tcp_sock_state, tcp_sock_state);
KOTEL_EXPORT_TYPE(enum tcp_direction, tcp_direction);
KOTEL_EXPORT_TYPE(enum tcp_stat, tcp_stat);
KOTEL_EXPORT_TYPE(enum kotel_stat, kotel_stat);
KOTEL_EXPORT_TYPE(enum kotel_event_kind, kotel_event_kind);

static __always_inline void tcp_stat_add(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&tcp_stats, &slot);
	if (v)
		*v += 1;
}

static __always_inline bool is_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	return sk->sk_protocol == IPPROTO_TCP && (family == AF_INET || family == AF_INET6);
}

static __always_inline void attribute(struct tcp_sock_state *st)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	st->tgid = pid_tgid >> 32;
	st->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(st->comm, sizeof(st->comm));
}

static __always_inline void emit(const struct sock *sk, struct tcp_sock_state *st, __u16 kind, __u64 now)
{
	struct tcp_event *ev;
	__u64 sent = st->sent, recv = st->recv;
	__u32 retrans = st->retrans, rst_sent = st->rst_sent, rst_recv = st->rst_recv;

	if (st->tgid == self_tgid && self_tgid)
		return;
	ev = kotel_reserve(&events, ev, kind, now);
	if (!ev)
		return;   /* deltas stay unreported: the next record carries them */
	ev->tgid = st->tgid;
	ev->family = sk->__sk_common.skc_family;
	ev->lport = sk->__sk_common.skc_num;
	ev->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	ev->direction = st->direction;
	ev->first = !st->announced;
	ev->established = st->established;
	ev->_pad0[0] = ev->_pad0[1] = ev->_pad0[2] = 0;
	ev->err = sk->sk_err;
	ev->retrans = retrans - st->reported_retrans;
	ev->rst_sent = rst_sent - st->reported_rst_sent;
	ev->rst_recv = rst_recv - st->reported_rst_recv;
	ev->connect_ns = st->connect_ns;
	ev->duration_ns = kind == KOTEL_EVENT_TCP_CLOSE && st->start_ns ? now - st->start_ns : 0;
	ev->sent = sent - st->reported_sent;
	ev->recv = recv - st->reported_recv;
	ev->cgroup_id = st->cgroup_id;
	__builtin_memset(ev->daddr, 0, sizeof(ev->daddr));
	if (ev->family == AF_INET)
		__builtin_memcpy(ev->daddr, &sk->__sk_common.skc_daddr, 4);
	else
		BPF_CORE_READ_INTO(&ev->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	__builtin_memcpy(ev->comm, st->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	kotel_stat_add(KOTEL_STAT_RECORDS_SENT, 1);
	st->announced = 1;
	st->reported_sent = sent;
	st->reported_recv = recv;
	st->reported_retrans = retrans;
	st->reported_rst_sent = rst_sent;
	st->reported_rst_recv = rst_recv;
	st->last_report_ns = now;
}

static __always_inline struct tcp_sock_state *create(struct sock *sk)
{
	struct tcp_sock_state *st = bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
	return st;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_btf, struct sock *sk, int oldstate, int newstate)
{
	struct tcp_sock_state *st;
	__u64 now;

	if (!is_tcp(sk))
		return 0;
	if (newstate == TCP_SYN_SENT) {
		st = create(sk);
		if (!st)
			return 0;
		kotel_stat_add(KOTEL_STAT_EVENTS_SEEN, 1);
		__builtin_memset(st, 0, sizeof(*st));  /* a socket may connect again after a failure */
		st->start_ns = bpf_ktime_get_ns();
		st->direction = TCP_DIR_OUTBOUND;
		attribute(st);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		st = bpf_sk_storage_get(&socks, sk, 0, 0);
		if (!st)
			return 0;
		now = bpf_ktime_get_ns();
		st->connect_ns = now - st->start_ns;
		st->established = 1;
		emit(sk, st, KOTEL_EVENT_TCP_OPEN, now);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		/* Passive open, in softirq: the owner is known at the first send/recv/close in process context. */
		st = create(sk);
		if (!st)
			return 0;
		kotel_stat_add(KOTEL_STAT_EVENTS_SEEN, 1);
		st->start_ns = bpf_ktime_get_ns();
		st->direction = TCP_DIR_INBOUND;
		st->established = 1;
		return 0;
	}
	if (newstate == TCP_CLOSE) {
		st = bpf_sk_storage_get(&socks, sk, 0, 0);
		if (!st) {
			if (oldstate != TCP_LISTEN && oldstate != TCP_CLOSE && oldstate != TCP_SYN_RECV)
				tcp_stat_add(TCP_STAT_UNTRACKED_CLOSE);
			return 0;
		}
		if (st->closed)
			return 0;
		st->closed = 1;
		/* Kept until the socket is freed: data still buffered may be read after the close. */
		if (st->tgid)
			emit(sk, st, KOTEL_EVENT_TCP_CLOSE, bpf_ktime_get_ns());
	}
	return 0;
}

static __always_inline int on_io(struct sock *sk, int ret, int flags, bool send)
{
	struct tcp_sock_state *st;
	__u64 now;

	if (ret <= 0 || (!send && (flags & MSG_PEEK)))
		return 0;
	if (!is_tcp(sk))
		return 0;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st) {
		/* A connection older than the agent: track it from now on (direction unknown). */
		__u8 state = sk->__sk_common.skc_state;
		if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT)
			return 0;
		st = create(sk);
		if (!st)
			return 0;
		st->established = 1;
	}
	if (!st->tgid) {
		attribute(st);
		if (st->tgid == self_tgid) {
			st->tgid = 0;
			return 0;
		}
	}
	if (send)
		st->sent += ret;
	else
		st->recv += ret;
	now = bpf_ktime_get_ns();
	if (!st->announced || st->closed || now - st->last_report_ns >= flush_ns)
		emit(sk, st, KOTEL_EVENT_TCP_PROGRESS, now);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(send_btf, struct sock *sk, int ret, int flags)
{
	return on_io(sk, ret, flags, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(recv_btf, struct sock *sk, int ret, int flags)
{
	return on_io(sk, ret, flags, false);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_btf, struct sock *sk)
{
	struct tcp_sock_state *st;

	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (st)
		__sync_fetch_and_add(&st->retrans, 1);
	return 0;
}

/* An abortive close moves the socket to TCP_CLOSE (and sends its close record) before the
 * reset goes out: report the reset on its own, or it would never be exported. */
static __always_inline void report_after_close(const struct sock *sk, struct tcp_sock_state *st)
{
	if (st->closed && st->tgid)
		emit(sk, st, KOTEL_EVENT_TCP_PROGRESS, bpf_ktime_get_ns());
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(receive_reset_btf, struct sock *sk)
{
	struct tcp_sock_state *st;

	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st)
		return 0;
	__sync_fetch_and_add(&st->rst_recv, 1);
	report_after_close(sk, st);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(send_reset_btf, struct sock *sk)
{
	struct tcp_sock_state *st;

	if (!sk) {
		tcp_stat_add(TCP_STAT_RST_SENT_NO_SOCKET);
		return 0;
	}
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st)
		return 0;
	__sync_fetch_and_add(&st->rst_sent, 1);
	report_after_close(sk, st);
	return 0;
}
