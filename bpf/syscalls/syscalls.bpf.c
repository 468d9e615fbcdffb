// SPDX-License-Identifier: GPL-2.0
/* Failed syscalls: one exit hook that leaves at once on success, exact per-key counts in a
 * hash map, and rate-limited records to user space whose ranges account for every failure. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "syscalls.h"
#include "kotel_stats.h"
#include "kotel_thread_ctx.h"

#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 self_tgid = 0;          /* kotel itself: never reported (feedback loop) */
const volatile __u32 records_per_window = 10; /* per key */
const volatile __u64 window_ns = 1000000000ULL;
const volatile __u8 filter_tgids = 0;        /* 1: only tgids present in `tgid_filter` */
const volatile __u8 filter_cgroups = 0;      /* 1: only cgroups present in `cgroup_filter` */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALLS_MAX_NR);
	__type(key, __u32);
	__type(value, struct syscall_watch);
} watch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct syscall_key);
	__type(value, struct syscall_counter);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} tgid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

KOTEL_STATS_MAP();
KOTEL_THREAD_CTX_MAP();
KOTEL_EXPORT_TYPE(struct syscall_event, syscall_event);
KOTEL_EXPORT_TYPE(enum kotel_stat, kotel_stat);
KOTEL_EXPORT_TYPE(enum kotel_event_kind, kotel_event_kind);
KOTEL_EXPORT_TYPE(enum syscall_arg_kind, syscall_arg_kind);

static __always_inline bool errno_watched(const struct syscall_watch *w, __u32 err)
{
	if (err >= SYSCALLS_ERRNO_WORDS * 64)
		return false;
	return (w->errno_mask[err / 64] >> (err % 64)) & 1;
}

static __always_inline __u64 syscall_arg(struct pt_regs *regs, __u8 index)
{
	switch (index) {
	case 0: return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 1: return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 2: return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 3: return PT_REGS_PARM4_CORE_SYSCALL(regs);
	case 4: return PT_REGS_PARM5_CORE_SYSCALL(regs);
	default: return 0;
	}
}

static __always_inline void read_sockaddr(struct syscall_event *ev, const void *uaddr)
{
	__u16 family = 0;

	if (bpf_probe_read_user(&family, sizeof(family), uaddr))
		return;
	ev->family = family;
	if (family == AF_INET) {
		struct sockaddr_in sin = {};
		if (bpf_probe_read_user(&sin, sizeof(sin), uaddr) == 0) {
			ev->port = bpf_ntohs(sin.sin_port);
			__builtin_memcpy(ev->addr, &sin.sin_addr, 4);
		}
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		if (bpf_probe_read_user(&sin6, sizeof(sin6), uaddr) == 0) {
			ev->port = bpf_ntohs(sin6.sin6_port);
			__builtin_memcpy(ev->addr, &sin6.sin6_addr, 16);
		}
	}
}

static __always_inline void capture_argument(struct syscall_event *ev, const struct syscall_watch *w,
					     struct pt_regs *regs)
{
	__u64 arg = syscall_arg(regs, w->arg_index);

	ev->path[0] = 0;
	switch (w->arg_kind) {
	case SYSCALL_ARG_PATH:
		bpf_probe_read_user_str(ev->path, sizeof(ev->path), (const void *)arg);
		break;
	case SYSCALL_ARG_PEER_SOCKADDR:
	case SYSCALL_ARG_LOCAL_SOCKADDR:
		read_sockaddr(ev, (const void *)arg);
		break;
	case SYSCALL_ARG_SIZE:
	case SYSCALL_ARG_FD:
		ev->arg_value = arg;
		break;
	}
}

static __always_inline bool rate_allows(struct syscall_counter *c, __u64 now)
{
	__u64 start = c->window_start_ns;

	if (now - start >= window_ns) {
		/* Racy reset is fine: it only changes how many records, never the counts. */
		c->window_start_ns = now;
		c->window_records = 0;
	}
	return __sync_fetch_and_add(&c->window_records, 1) < records_per_window;
}

/* Claims the failures not yet covered by any record. Returns the range start, or
 * (__u64)-1 when another CPU already covered `total`. */
static __always_inline __u64 claim_range(struct syscall_counter *c, __u64 total)
{
	for (int i = 0; i < 8; i++) {
		__u64 before = c->emitted;
		if (before >= total)
			return (__u64)-1;
		if (__sync_val_compare_and_swap(&c->emitted, before, total) == before)
			return before;
	}
	return (__u64)-1;
}

static __noinline int handle_failure(__u32 nr, long ret, struct pt_regs *regs)
{
	struct syscall_key key = {};
	struct syscall_counter *counter;
	struct syscall_watch *watch_entry;
	struct syscall_event *ev;
	__u64 pid_tgid, now, total, from;
	__u32 tgid, nr_index = nr;

	if (nr >= SYSCALLS_MAX_NR)
		return 0;
	watch_entry = bpf_map_lookup_elem(&watch, &nr_index);
	if (!watch_entry || !watch_entry->watched || !errno_watched(watch_entry, (__u32)-ret))
		return 0;

	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	if (tgid == self_tgid || tgid == 0)
		return 0;
	if (filter_tgids && !bpf_map_lookup_elem(&tgid_filter, &tgid))
		return 0;
	if (filter_cgroups) {
		__u64 cg = bpf_get_current_cgroup_id();
		if (!bpf_map_lookup_elem(&cgroup_filter, &cg))
			return 0;
	}

	key.tgid = tgid;
	key.nr = nr;
	key.err = (__u32)-ret;
	counter = bpf_map_lookup_elem(&counters, &key);
	if (!counter) {
		struct syscall_counter zero = {};
		/* EEXIST from a concurrent insert is fine: the lookup below finds it. */
		bpf_map_update_elem(&counters, &key, &zero, BPF_NOEXIST);
		counter = bpf_map_lookup_elem(&counters, &key);
		if (!counter) {
			kotel_stat_add(KOTEL_STAT_MAP_FULL, 1);
			return 0;
		}
	}
	total = __sync_fetch_and_add(&counter->total, 1) + 1;
	now = bpf_ktime_get_ns();

	/* Held back failures are not lost: the next record's range, or user space's fold, covers them. */
	if (!rate_allows(counter, now))
		return 0;
	/* Reserve before claiming: a full ring buffer leaves the failures unclaimed, so the
	 * next record (or user space's end-of-burst fold) still accounts for them. */
	ev = kotel_reserve(&events, ev, KOTEL_EVENT_SYSCALL_FAILURE, now);
	if (!ev)
		return 0;
	from = claim_range(counter, total);
	if (from == (__u64)-1) {
		bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		return 0;
	}
	ev->tgid = tgid;
	ev->tid = (__u32)pid_tgid;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->nr = nr;
	ev->err = (__u32)-ret;
	ev->arg_kind = watch_entry->arg_kind;
	ev->category = watch_entry->category;
	ev->family = 0;
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->covered_from = from;
	ev->covered_to = total;
	ev->arg_value = 0;
	__builtin_memset(ev->addr, 0, sizeof(ev->addr));
	ev->port = 0;
	ev->_pad0 = 0;
	ev->_pad1 = 0;
	if (!kotel_thread_ctx_current(&thread_ctx, ev->tid, ev->trace_id, ev->span_id)) {
		__builtin_memset(ev->trace_id, 0, sizeof(ev->trace_id));
		__builtin_memset(ev->span_id, 0, sizeof(ev->span_id));
	}
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	capture_argument(ev, watch_entry, regs);
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	return 0;
}

static __always_inline bool is_compat_task(struct task_struct *task)
{
	/* 32-bit tasks use other syscall numbers: skip them rather than misname. The task
	 * pointer is trusted, so this is a direct (CO-RE relocated) load, not a probe read. */
	if (bpf_core_field_exists(task->thread_info.status))
		return task->thread_info.status & 0x0002 /* TS_COMPAT */;
	return false;
}

/* Preferred: tp_btf passes pt_regs and ret as typed arguments (cheapest hook). */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs *regs, long ret)
{
	if (ret >= 0)
		return 0;
	if (is_compat_task(bpf_get_current_task_btf()))
		return 0;
	return handle_failure((__u32)regs->orig_ax, ret, regs);  /* typed: a direct load */
}

/* Fallback where tp_btf is unavailable: the same arguments, untyped. */
SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit_raw, struct pt_regs *regs, long ret)
{
	if (ret >= 0)
		return 0;
	if (is_compat_task(bpf_get_current_task_btf()))
		return 0;
	return handle_failure((__u32)BPF_CORE_READ(regs, orig_ax), ret, regs);
}

/* Last resort: the classic tracepoint; arguments come from the task's saved registers. */
SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task;

	if (ctx->ret >= 0)
		return 0;
	task = bpf_get_current_task_btf();
	if (is_compat_task(task))
		return 0;
	return handle_failure((__u32)ctx->id, ctx->ret, (struct pt_regs *)bpf_task_pt_regs(task));
}
