/* Layouts shared between syscalls.bpf.c and src/receivers/syscalls (offsets are
 * generated from this object's BTF into layout.generated.ts; never retyped by hand). */
#ifndef KOTEL_SYSCALLS_H
#define KOTEL_SYSCALLS_H

#include "kotel_event.h"

#define SYSCALLS_MAX_NR 512      /* bound for the per-syscall watch table */
#define SYSCALLS_PATH_MAX 256
#define SYSCALLS_ERRNO_WORDS 3   /* errno bitmask: errno values 1..191 */

/* What a syscall's arguments tell about a failure. */
enum syscall_arg_kind {
	SYSCALL_ARG_NONE = 0,
	SYSCALL_ARG_PATH = 1,        /* user string: the path */
	SYSCALL_ARG_PEER_SOCKADDR = 2, /* struct sockaddr *: the remote address (connect) */
	SYSCALL_ARG_LOCAL_SOCKADDR = 3, /* struct sockaddr *: the local address (bind) */
	SYSCALL_ARG_SIZE = 4,        /* a byte count (mmap length) */
	SYSCALL_ARG_FD = 5,          /* a file descriptor (write family) */
};

/* One entry per syscall number, filled by user space from the watch list. */
struct syscall_watch {
	__u64 errno_mask[SYSCALLS_ERRNO_WORDS]; /* bit n set: report errno n */
	__u8 watched;
	__u8 category;   /* enum in src/semconv: file, network, memory, process */
	__u8 arg_kind;
	__u8 arg_index;  /* 0..5: which syscall argument holds it */
	__u32 _pad;
};

struct syscall_key {
	__u32 tgid;
	__u32 nr;
	__u32 err;       /* positive errno */
	__u32 _pad;
};

/* Exact, in-kernel aggregate per (process, syscall, errno). `total` counts every failure;
 * records cover (emitted_before, emitted] so user space can account for each exactly once. */
struct syscall_counter {
	__u64 total;
	__u64 emitted;          /* failures covered by records already submitted */
	__u64 window_start_ns;
	__u32 window_records;
	__u32 _pad;
};

struct syscall_event {
	struct kotel_event_header hdr;
	__u32 tgid;
	__u32 tid;
	__u32 uid;
	__u32 nr;
	__u32 err;
	__u8 arg_kind;
	__u8 category;
	__u16 family;      /* AF_INET / AF_INET6 for sockaddr arguments */
	__u64 cgroup_id;
	__u64 covered_from; /* exclusive */
	__u64 covered_to;   /* inclusive: this record stands for covered_to - covered_from failures */
	__u64 arg_value;    /* size or fd */
	__u8 addr[16];
	__u16 port;         /* host byte order */
	__u16 _pad0;
	__u32 _pad1;
	__u8 trace_id[16];  /* the server request the thread was serving (http receiver), else zero */
	__u8 span_id[8];
	char comm[16];
	char path[SYSCALLS_PATH_MAX];
};

#endif
