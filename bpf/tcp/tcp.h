/* Layouts shared between tcp.bpf.c and src/receivers/tcp (offsets are generated from this
 * object's BTF into tcp.layout.ts; never retyped by hand). */
#ifndef KOTEL_TCP_H
#define KOTEL_TCP_H

#include "kotel_event.h"

enum tcp_direction {
	TCP_DIR_UNKNOWN = 0,   /* existed before the agent attached */
	TCP_DIR_OUTBOUND = 1,  /* connect() */
	TCP_DIR_INBOUND = 2,   /* accepted */
};

/* Per-socket state (BPF_MAP_TYPE_SK_STORAGE: freed with the socket). */
struct tcp_sock_state {
	__u64 start_ns;
	__u64 connect_ns;      /* SYN_SENT → ESTABLISHED */
	__u64 sent;
	__u64 recv;
	__u64 reported_sent;
	__u64 reported_recv;
	__u64 last_report_ns;
	__u64 cgroup_id;
	__u32 tgid;
	__u32 retrans;
	__u32 rst_sent;
	__u32 rst_recv;
	__u32 reported_retrans;
	__u32 reported_rst_sent;
	__u32 reported_rst_recv;
	__u8 direction;
	__u8 established;
	__u8 announced;        /* a record with `first` set was sent */
	__u8 closed;           /* reached TCP_CLOSE: later reads of buffered data are reported at once */
	char comm[16];
};

/* One record per connection event: opened (outbound established), progress (counter deltas of a
 * live connection, at most one per flush interval), closed (final deltas; failed connects too). */
struct tcp_event {
	struct kotel_event_header hdr;
	__u32 tgid;
	__u16 family;
	__u16 lport;           /* host byte order */
	__u16 dport;           /* host byte order */
	__u8 direction;
	__u8 first;            /* first record of this connection: count it */
	__u8 established;
	__u8 _pad0[3];
	__s32 err;             /* sk_err at close (ECONNREFUSED, ETIMEDOUT, ...) */
	__u32 retrans;         /* deltas since the previous record */
	__u32 rst_sent;
	__u32 rst_recv;
	__u64 connect_ns;
	__u64 duration_ns;     /* at close: start → close */
	__u64 sent;            /* deltas since the previous record */
	__u64 recv;
	__u64 cgroup_id;
	__u8 daddr[16];
	char comm[16];
};

/* Slots of the per-CPU `tcp_stats` array. */
enum tcp_stat {
	TCP_STAT_RST_SENT_NO_SOCKET = 0,  /* resets sent for segments with no socket (e.g. refused SYNs) */
	TCP_STAT_UNTRACKED_CLOSE = 1,     /* closes of sockets opened before the agent */
	TCP_STAT_COUNT = 4,
};

#endif
