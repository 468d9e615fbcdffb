// Settings of the http receiver and their JSON Schema (defaults applied by the loader).
export interface HttpSettings {
  /** Follow exchanges that processes on this host answer (server spans, http.server.* metrics). */
  server: boolean;
  /** Follow requests that processes on this host send (client spans, http.client.* metrics). */
  client: boolean;
  /** Only connections whose server port is listed (the local port of a server, the peer's of a client); empty: all. */
  ports: number[];
  request_head_size: number;
  response_head_size: number;
  /** Route templates, e.g. "/users/{id}/orders/{order}": a matching path gets this route. */
  routes: string[];
  capture_query: boolean;
  capture_user_agent: boolean;
  histogram: 'explicit' | 'exponential';
  /** Explicit bucket bounds in seconds (semantic-convention default). */
  duration_buckets: number[];
  /** Capture hooks: sock tracepoints (6.3+), syscall exits (older kernels), or the first this kernel has. */
  hooks: 'auto' | 'sock' | 'syscalls';
  /** Program type within the chosen hooks (sock: tp_btf; syscalls: raw_tp, then tracepoint). */
  hook: 'auto' | 'tp_btf' | 'raw_tp' | 'tracepoint';
  /** Syscall hooks: connections followed at once (LRU beyond; the sock hooks keep state in the socket). */
  max_connections: number;
  tls: TlsSettings;
}

/** HTTPS: uprobes on OpenSSL's SSL_read/SSL_write (+ _ex) in libssl and in binaries linking it statically. */
export interface TlsSettings {
  enabled: boolean;
  /** Find libssl (ldconfig, standard paths), node (PATH, standard paths) and what running processes map. */
  discover: boolean;
  /** More binaries or libraries to probe (absolute paths). */
  binaries: string[];
  /** TLS connections followed at once (LRU beyond). */
  max_connections: number;
}

export const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const DEFAULT_SIZE_BUCKETS = [0, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

export const httpSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: { description: 'Follow exchanges that processes on this host answer (server spans, http.server.* metrics).', type: 'boolean', default: true },
    client: { description: 'Follow requests that processes on this host send (client spans, http.client.* metrics).', type: 'boolean', default: true },
    ports: {
      description: 'Only connections whose server port is listed: the local port where this host answers, the peer port where it asks. Empty: every port. Tested in the kernel before any read.',
      type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 }, uniqueItems: true, default: [],
    },
    request_head_size: { description: 'Bytes of each request head captured in the kernel.', type: 'integer', minimum: 64, maximum: 256, default: 256 },
    response_head_size: { description: 'Bytes of each response head captured in the kernel.', type: 'integer', minimum: 64, maximum: 256, default: 256 },
    routes: {
      description: 'Route templates such as /users/{id}; paths that match none are templated automatically (ids, numbers, UUIDs, hashes → placeholders).',
      type: 'array', items: { type: 'string', pattern: '^/' }, default: [],
    },
    capture_query: { description: 'Export url.query (off: query strings are removed).', type: 'boolean', default: false },
    capture_user_agent: { description: 'Export user_agent.original (opt-in).', type: 'boolean', default: false },
    histogram: { enum: ['explicit', 'exponential'], default: 'explicit' },
    duration_buckets: { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 1, default: DEFAULT_DURATION_BUCKETS },
    hooks: {
      description: 'sock: tp_btf on sock:sock_send_length/sock_recv_length (Linux 6.3+, cheapest); syscalls: raw_syscalls/sys_exit (older kernels; every syscall pays a test, socket I/O an fd-table walk); auto: sock where the kernel has it, else syscalls.',
      enum: ['auto', 'sock', 'syscalls'], default: 'auto',
    },
    hook: { description: 'Program type within the chosen hooks (sock: tp_btf; syscalls: raw_tp, then tracepoint).', enum: ['auto', 'tp_btf', 'raw_tp', 'tracepoint'], default: 'auto' },
    max_connections: { description: 'Syscall hooks: connections followed at once (least recently used are dropped beyond; ~2 KB each).', type: 'integer', minimum: 64, maximum: 1048576, default: 8192 },
    tls: {
      description: 'HTTPS through uprobes on OpenSSL SSL_read/SSL_write (libssl, and binaries that link OpenSSL statically such as node).',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        discover: { description: 'Probe libssl.so.3/1.1 (ldconfig, standard paths), node (PATH, /usr/bin, /usr/local/bin) and the libssl or node of running processes.', type: 'boolean', default: true },
        binaries: { description: 'More binaries or libraries to probe.', type: 'array', items: { type: 'string', pattern: '^/' }, default: [] },
        max_connections: { description: 'TLS connections followed at once (least recently used are dropped beyond).', type: 'integer', minimum: 64, maximum: 1048576, default: 4096 },
      },
    },
  },
  // a receiver that follows neither side would attach its hooks and never report anything
  if: { properties: { server: { const: false } }, required: ['server'] },
  then: { properties: { client: { const: true, description: 'server: false needs client: true (a receiver that follows neither side reports nothing; remove it from the pipelines instead)' } } },
} as const;

export function withDefaults(s: Partial<HttpSettings>): HttpSettings {
  return {
    server: s.server ?? true,
    client: s.client ?? true,
    ports: s.ports ?? [],
    request_head_size: s.request_head_size ?? 256,
    response_head_size: s.response_head_size ?? 256,
    routes: s.routes ?? [],
    capture_query: s.capture_query ?? false,
    capture_user_agent: s.capture_user_agent ?? false,
    histogram: s.histogram ?? 'explicit',
    duration_buckets: s.duration_buckets ?? DEFAULT_DURATION_BUCKETS,
    hooks: s.hooks ?? 'auto',
    hook: s.hook ?? 'auto',
    max_connections: s.max_connections ?? 8192,
    tls: {
      enabled: s.tls?.enabled ?? true,
      discover: s.tls?.discover ?? true,
      binaries: s.tls?.binaries ?? [],
      max_connections: s.tls?.max_connections ?? 4096,
    },
  };
}
