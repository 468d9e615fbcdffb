// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle: one record per exec and one per process exit (last thread of the group),
 * feeding the agent's process table, the exec / abnormal-exit log records and the lifetime histogram. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "process.h"
#include "kotel_stats.h"

#define PF_KTHREAD 0x00200000

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 self_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

KOTEL_STATS_MAP();
KOTEL_EXPORT_TYPE(struct process_exec_event, process_exec_event);
KOTEL_EXPORT_TYPE(struct process_exit_event, process_exit_event);
KOTEL_EXPORT_TYPE(enum kotel_stat, kotel_stat);
KOTEL_EXPORT_TYPE(enum kotel_event_kind, kotel_event_kind);

static __always_inline int on_exec(struct task_struct *task, __u32 old_pid, struct linux_binprm *bprm)
{
	struct process_exec_event *ev;
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (tgid == self_tgid)
		return 0;
	kotel_stat_add(KOTEL_STAT_EVENTS_SEEN, 1);
	ev = kotel_reserve(&events, ev, KOTEL_EVENT_PROCESS_EXEC, bpf_ktime_get_ns());
	if (!ev)
		return 0;
	ev->tgid = tgid;
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->old_pid = old_pid;
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	kotel_stat_add(KOTEL_STAT_RECORDS_SENT, 1);
	return 0;
}

static __always_inline int on_exit(struct task_struct *task)
{
	struct process_exit_event *ev;
	__u32 tgid;

	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		return 0;
	/* Threads: only the last one of the group ends the process (signal->live already dropped). */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	if (tgid == self_tgid)
		return 0;
	kotel_stat_add(KOTEL_STAT_EVENTS_SEEN, 1);
	ev = kotel_reserve(&events, ev, KOTEL_EVENT_PROCESS_EXIT, bpf_ktime_get_ns());
	if (!ev)
		return 0;
	ev->tgid = tgid;
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->exit_code = (__u32)BPF_CORE_READ(task, exit_code);
	ev->_pad = 0;
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	kotel_stat_add(KOTEL_STAT_RECORDS_SENT, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p)
{
	return on_exit(p);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p)
{
	return on_exit(p);
}
