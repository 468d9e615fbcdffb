/* Layouts shared between http.bpf.c and src/receivers/http (offsets generated from this
 * object's BTF into http.layout.ts; never retyped by hand). */
#ifndef KOTEL_HTTP_H
#define KOTEL_HTTP_H

#include "kotel_event.h"

#define HTTP_HEAD_MAX 256        /* captured bytes of each head (request, response) */
#define HTTP_WINDOW 512          /* bytes read per head for parsing (Content-Length, traceparent) */
#define HTTP_PIPELINE 4          /* requests waiting for their response, per connection (power of 2) */

enum http_role {
	HTTP_ROLE_SERVER = 1,        /* this process received the request */
	HTTP_ROLE_CLIENT = 2,        /* this process sent the request */
};

enum http_flag {
	HTTP_F_CLOSED = 1,           /* connection closed or reset mid-exchange: the span is an error */
	HTTP_F_REMOTE_PARENT = 2,    /* server: parent from the request's traceparent */
	HTTP_F_KERNEL_PARENT = 4,    /* client: child of the one server request this thread was serving */
	HTTP_F_OWN_TRACEPARENT = 8,  /* client: span id and trace id taken from the traceparent it sent */
	HTTP_F_CLOSE_DELIMITED = 16, /* response without length: ended by the connection close */
	HTTP_F_TLS = 32,             /* captured on the plaintext side of SSL_read/SSL_write */
	HTTP_F_QUEUE_FULL = 64,      /* more pipelined requests than HTTP_PIPELINE were waiting */
};

/* A request waiting for its response (kept in the connection's socket storage). */
struct http_pending {
	__u64 start_ns;
	__u64 bytes;
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_id[8];
	__u32 tid;
	__u16 head_len;
	__u16 hdr_end;               /* request head length when its end was seen, else 0 */
	__u8 flags;
	__u8 _pad[7];
	char head[HTTP_HEAD_MAX];
};

/* Per-connection state, BPF_MAP_TYPE_SK_STORAGE: freed with the socket, so fd reuse starts clean. */
struct http_conn {
	struct http_pending q[HTTP_PIPELINE];
	__u64 resp_start_ns;
	__u64 resp_last_ns;
	__u64 resp_bytes;
	__s64 resp_remaining;        /* body bytes still expected; -1: unknown (chunked or close-delimited) */
	__u32 q_head;
	__u32 q_len;
	__u8 role;
	__u8 resp_state;             /* 0: no response in progress; 1: in the body */
	__u8 resp_chunked;
	__u8 flags;                  /* added to every record of the connection (HTTP_F_TLS) */
	__u16 status;
	__u16 resp_head_len;
	__u16 resp_hdr_end;
	__u16 _pad1;
	__u32 tgid;                  /* process that owns the connection (close may run in softirq) */
	__u8 laddr[16];              /* the 4-tuple, read once when the connection is first seen */
	__u8 raddr[16];
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u16 _pad3;
	char comm[16];               /* the owner's, read once: emits also run in other tasks (close, softirq) */
	char resp_head[HTTP_HEAD_MAX];   /* kept only while the response outlives the call that carried its head */
};

/* A TLS connection: the process and its SSL object (the http_conn of the plaintext is kept
 * in an LRU hash under this key, since an SSL* has no socket storage). */
struct http_tls_key {
	__u32 tgid;
	__u32 _pad;
	__u64 ssl;
};

/* Per thread: the SSL_read/SSL_write call in progress, and the sockets that tell which socket
 * belongs to which SSL* (addresses only compared or read with probe reads, never trusted). */
struct http_tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 lenp;                  /* _ex variants: where the byte count is written; 0: the return value */
	__u64 sp;                    /* stack pointer at entry: the matching return sees sp + 8 */
	__u64 sk_in_call;            /* socket this thread did I/O on inside the call (socket BIO) */
	__u64 sk_recv;               /* last socket it read outside a call (memory BIO: node reads first) */
	__u64 ssl_unbound;           /* connection still without a socket: bound at the next send (memory BIO) */
	__u8 active;
	__u8 sending;
	__u8 _pad[6];
};

/* One record per completed exchange. */
struct http_event {
	struct kotel_event_header hdr;
	__u64 start_ns;
	__u64 end_ns;
	__u64 req_bytes;
	__u64 resp_bytes;
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_id[8];
	__u32 tgid;
	__u32 tid;
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 family;
	__u16 lport;                 /* host byte order */
	__u16 rport;
	__u16 status;
	__u16 req_head_len;
	__u16 resp_head_len;
	__u16 req_hdr_end;
	__u16 resp_hdr_end;
	__u8 role;
	__u8 flags;
	__u8 _pad[6];
	char comm[16];
	char req_head[HTTP_HEAD_MAX];
	char resp_head[HTTP_HEAD_MAX];
};

/* Per-CPU scratch: the window read from user memory and what the scan found in it. */
struct http_scratch {
	char buf[HTTP_WINDOW + HTTP_HEAD_MAX + 64];   /* a head copied from any window offset stays inside */
	__u32 hdr_end;               /* offset past "\r\n\r\n", 0: not in the window */
	__u32 clen_pos;              /* offset of the Content-Length value, 0: none */
	__u32 te_pos;                /* offset of "Transfer-Encoding", 0: none */
	__u32 tp_pos;                /* offset of "traceparent", 0: none */
	__u32 nseg;                  /* pipelined request heads found in the window */
	__u32 ends[HTTP_PIPELINE];   /* offset past each head */
	__u32 tps[HTTP_PIPELINE];    /* traceparent offset in each head, 0: none */
	__u32 _pad;
	__u8 tp_trace_id[16];        /* the parsed traceparent */
	__u8 tp_span_id[8];
	__u64 now;                   /* the current call, for the global (separately verified) functions */
	__u64 ret;
	__u32 tid;
	__u32 n;
	__u64 rng[2];                /* xorshift128+ state for trace and span ids, seeded from the kernel's prandom */
};

#endif
