// Settings of the tcp receiver and their JSON Schema (defaults applied by the loader).
export interface TcpSettings {
  max_peers_per_process: number;
  flush_interval_ms: number;
  connect_buckets: number[];
  lifetime_buckets: number[];
  logs: { failed_connects: boolean };
}

export const DEFAULT_CONNECT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const DEFAULT_LIFETIME_BUCKETS = [0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600, 86400];

export const tcpSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_peers_per_process: { description: 'Distinct peers kept per process and direction; further peers are folded into one series (network.peer.address "other") and counted in linux.tcp.peer.folds.', type: 'integer', minimum: 1, maximum: 100000, default: 64 },
    flush_interval_ms: { description: 'A live connection reports its byte counts at most this often (and at close).', type: 'integer', minimum: 10, maximum: 3600000, default: 1000 },
    connect_buckets: { type: 'array', minItems: 1, items: { type: 'number', exclusiveMinimum: 0 }, default: DEFAULT_CONNECT_BUCKETS },
    lifetime_buckets: { type: 'array', minItems: 1, items: { type: 'number', exclusiveMinimum: 0 }, default: DEFAULT_LIFETIME_BUCKETS },
    logs: {
      type: 'object', additionalProperties: false, default: {},
      properties: { failed_connects: { description: 'A log record per failed connect.', type: 'boolean', default: false } },
    },
  },
} as const;

export function withDefaults(s: Partial<TcpSettings>): TcpSettings {
  return {
    max_peers_per_process: s.max_peers_per_process ?? 64,
    flush_interval_ms: s.flush_interval_ms ?? 1000,
    connect_buckets: [...(s.connect_buckets ?? DEFAULT_CONNECT_BUCKETS)].sort((a, b) => a - b),
    lifetime_buckets: [...(s.lifetime_buckets ?? DEFAULT_LIFETIME_BUCKETS)].sort((a, b) => a - b),
    logs: { failed_connects: s.logs?.failed_connects ?? false },
  };
}
