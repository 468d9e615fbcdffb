/* Shared by every receiver: the header each ring-buffer record starts with, and the
 * per-CPU counters every program uses to report what it could not deliver. */
#ifndef KOTEL_EVENT_H
#define KOTEL_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Kinds of ring-buffer records, one range per receiver. */
enum kotel_event_kind {
	KOTEL_EVENT_SYSCALL_FAILURE = 1,
	KOTEL_EVENT_PROCESS_EXEC = 16,
	KOTEL_EVENT_PROCESS_EXIT = 17,
	KOTEL_EVENT_TCP_OPEN = 32,
	KOTEL_EVENT_TCP_CLOSE = 33,
	KOTEL_EVENT_TCP_PROGRESS = 34,
	KOTEL_EVENT_HTTP_EXCHANGE = 48,
};

struct kotel_event_header {
	__u16 kind;
	__u16 version;
	__u32 size;      /* whole record, header included */
	__u64 ts_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/* Slots of each receiver's per-CPU `stats` array map. */
enum kotel_stat {
	KOTEL_STAT_RINGBUF_FULL = 0,   /* bpf_ringbuf_reserve failed: record not sent */
	KOTEL_STAT_MAP_FULL = 1,       /* a map insert failed: the event was not aggregated */
	KOTEL_STAT_EVENTS_SEEN = 2,    /* events that passed the filters */
	KOTEL_STAT_RECORDS_SENT = 3,   /* records submitted to the ring buffer */
	KOTEL_STAT_RATE_LIMITED = 4,   /* events folded into a later record by the rate limit */
	KOTEL_STAT_COUNT = 8,
};

#endif
