/* Layouts shared between process.bpf.c and src/receivers/process (offsets are generated from
 * this object's BTF into process.layout.ts; never retyped by hand). */
#ifndef KOTEL_PROCESS_H
#define KOTEL_PROCESS_H

#include "kotel_event.h"

#define PROCESS_PATH_MAX 256

/* sched_process_exec: the new image of a process. */
struct process_exec_event {
	struct kotel_event_header hdr;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 old_pid;      /* the tid that called execve (differs from tgid when a thread exec'ed) */
	__u64 cgroup_id;
	__u64 start_ns;     /* the process's start, CLOCK_MONOTONIC */
	char comm[16];
	char filename[PROCESS_PATH_MAX];
};

/* sched_process_exit of the last thread of a thread group (kernel threads skipped). */
struct process_exit_event {
	struct kotel_event_header hdr;
	__u32 tgid;
	__u32 ppid;
	__u32 exit_code;    /* wait status: (status << 8) | signal (0x80: core dumped) */
	__u32 _pad;
	__u64 cgroup_id;
	__u64 start_ns;     /* CLOCK_MONOTONIC; lifetime = hdr.ts_ns - start_ns */
	char comm[16];
};

#endif
