// The `tcp` receiver: outbound connects and inbound accepts with their peer, connect latency,
// failed connects by reason, connection lifetime, bytes per (process, peer), retransmits and
// resets — from sock/tcp tracepoints only, attributed to the process that opened (or accepted)
// the socket. Peer cardinality is bounded per process; the folding is counted.
import { SeverityNumber, type Attributes, type HrTime } from '@opentelemetry/api';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { RingReader, forEachRecord } from '../../../native/index.ts';
import { detachAndDrain, loadAndAttach, u32, u64, type HookVariant, type LoadedProgram } from '../../bpf/loader.ts';
import { programStatsSource, ringStatsSource, kernelStatsSource } from '../../bpf/telemetry.ts';
import { KotelEventKind } from '../../bpf/kotel-event.layout.ts';
import {
  ATTR_ERROR_TYPE, ATTR_LINUX_TCP_DIRECTION, ATTR_LINUX_TCP_PEER_FOLDED, ATTR_LINUX_TCP_RESET_DIRECTION, ATTR_NETWORK_IO_DIRECTION,
  ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_TRANSPORT, ATTR_NETWORK_TYPE, ATTR_SERVER_PORT,
  METRIC_LINUX_TCP_CONNECTIONS, METRIC_LINUX_TCP_CONNECTION_DURATION, METRIC_LINUX_TCP_CONNECT_DURATION, METRIC_LINUX_TCP_CONNECT_FAILURES,
  METRIC_LINUX_TCP_RESETS, METRIC_LINUX_TCP_RETRANSMITS, METRIC_PROCESS_NETWORK_IO,
} from '../../semconv/attributes.ts';
import { cumulativeSum, histogram, resourceMetrics, type HistogramPoint, type Point } from '../../pipeline/metric-data.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { hookChecks } from '../checks.ts';
import { ValueHistogram } from '../process/value-histogram.ts';
import { connectFailureReason, decodeTcp, type TcpRecord } from './decode.ts';
import { TcpDirection, TcpEvent } from './tcp.layout.ts';
import { tcpSchema, withDefaults, type TcpSettings } from './settings.ts';

const OBJECT = 'tcp.bpf.o';
const VARIANTS: HookVariant[] = [
  { kind: 'tp_btf', programs: ['set_state_btf', 'send_btf', 'recv_btf', 'retransmit_btf', 'receive_reset_btf', 'send_reset_btf'], tracepoint: 'sock/inet_sock_set_state' },
];
const SCOPE = receiverScope('tcp');
export const METRIC_LINUX_TCP_PEER_FOLDS = 'linux.tcp.peer.folds';

interface PeerSeries {
  attrs: Attributes; start: HrTime; sent: number; recv: number; connections: number; failures: Map<string, number>;
  connect: ValueHistogram; lifetime: ValueHistogram; retrans: number; rstSent: number; rstRecv: number;
}
interface ProcSeries { comm: string; peers: Map<string, PeerSeries>; folds: number; start: HrTime; deadSeen: boolean }

const directionName = (d: number) => d === TcpDirection.TCP_DIR_OUTBOUND ? 'outbound' : d === TcpDirection.TCP_DIR_INBOUND ? 'inbound' : 'unknown';

/** Aggregates decoded records per process and peer (exported for unit tests). */
export class TcpAggregator {
  readonly procs = new Map<number, ProcSeries>();
  private readonly settings: TcpSettings;
  private readonly now: () => HrTime;
  constructor(settings: TcpSettings, now: () => HrTime) { this.settings = settings; this.now = now; }

  private series(r: TcpRecord): PeerSeries {
    let proc = this.procs.get(r.tgid);
    if (!proc) this.procs.set(r.tgid, (proc = { comm: r.comm, peers: new Map(), folds: 0, start: this.now(), deadSeen: false }));
    const dir = directionName(r.direction);
    // Outbound: the server's port identifies the service; inbound peer ports are ephemeral.
    const port = r.direction === TcpDirection.TCP_DIR_OUTBOUND ? r.dport : 0;
    let key = `${dir}|${r.peer}|${port}`;
    let s = proc.peers.get(key);
    if (!s) {
      const distinct = [...proc.peers.keys()].filter((k) => k.startsWith(`${dir}|`) && !k.startsWith(`${dir}|other|`)).length;
      let attrs: Attributes;
      if (distinct >= this.settings.max_peers_per_process) {
        key = `${dir}|other|0`;
        attrs = { [ATTR_LINUX_TCP_DIRECTION]: dir, [ATTR_NETWORK_PEER_ADDRESS]: 'other', [ATTR_LINUX_TCP_PEER_FOLDED]: true, [ATTR_NETWORK_TRANSPORT]: 'tcp' };
      } else {
        attrs = { [ATTR_LINUX_TCP_DIRECTION]: dir, [ATTR_NETWORK_PEER_ADDRESS]: r.peer, [ATTR_NETWORK_TRANSPORT]: 'tcp', [ATTR_NETWORK_TYPE]: r.family === 10 && !r.peer.startsWith('::ffff:') ? 'ipv6' : 'ipv4' };
        if (port) attrs[ATTR_SERVER_PORT] = port;
      }
      s = proc.peers.get(key);
      if (!s) {
        s = { attrs, start: this.now(), sent: 0, recv: 0, connections: 0, failures: new Map(), connect: new ValueHistogram(this.settings.connect_buckets),
          lifetime: new ValueHistogram(this.settings.lifetime_buckets), retrans: 0, rstSent: 0, rstRecv: 0 };
        proc.peers.set(key, s);
      }
      if (key.includes('|other|')) proc.folds++;
    } else if (key.includes('|other|')) proc.folds++;
    return s;
  }

  add(r: TcpRecord): PeerSeries | undefined {
    if (!r.tgid) return undefined;
    const s = this.series(r);
    s.sent += r.sent;
    s.recv += r.recv;
    s.retrans += r.retrans;
    s.rstSent += r.rstSent;
    s.rstRecv += r.rstRecv;
    if (r.first && r.established) s.connections++;
    if (r.kind === KotelEventKind.KOTEL_EVENT_TCP_OPEN) s.connect.record(r.connectNs / 1e9);
    if (r.kind === KotelEventKind.KOTEL_EVENT_TCP_CLOSE) {
      if (!r.established && r.direction === TcpDirection.TCP_DIR_OUTBOUND) {
        const reason = connectFailureReason(r.err);
        s.failures.set(reason, (s.failures.get(reason) ?? 0) + 1);
      } else if (r.durationNs) {
        s.lifetime.record(r.durationNs / 1e9);
      }
    }
    return s;
  }
}

class TcpReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<TcpSettings>;
  private readonly settings: TcpSettings;
  private readonly agg: TcpAggregator;
  private loaded: LoadedProgram | undefined;
  private ring: RingReader | undefined;
  private decodeErrors = 0;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private finalMetrics: ResourceMetrics[] | undefined;

  constructor(ctx: ReceiverContext<TcpSettings>) {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
    this.agg = new TcpAggregator(this.settings, () => ctx.clock.now());
  }

  async start(): Promise<void> {
    this.loaded = loadAndAttach({
      receiver: this.id, object: OBJECT, variants: VARIANTS,
      globals: { self_tgid: u32(process.pid), flush_ns: u64(BigInt(this.settings.flush_interval_ms) * 1_000_000n) },
    });
    const { object, variant, skipped } = this.loaded;
    this.attachedTo = `${variant.kind}/inet_sock_set_state`;
    for (const s of skipped) this.ctx.diag.info(`${this.id}: not using ${s}`);
    if (this.ctx.bpfRunTimeStats) object.enableRunTimeStats();
    this.ring = new RingReader(object.map('events'), (batch, count) => this.onBatch(batch, count), { intervalMs: 10 });
    this.ring.unref();
    const t = this.ctx.selfTelemetry;
    t.addSource(ringStatsSource(this.id, this.ring, () => this.decodeErrors));
    t.addSource(kernelStatsSource(this.id, object.map('stats')));
    t.addSource(programStatsSource(this.id, object, variant.programs));
    this.state = 'running';
  }

  private onBatch(batch: Buffer, count: number): void {
    if (this.state !== 'running') return;
    forEachRecord(batch, count, (view, offset, length) => {
      const kind = view.getUint16(offset, true);
      if (length < TcpEvent.size || kind < KotelEventKind.KOTEL_EVENT_TCP_OPEN || kind > KotelEventKind.KOTEL_EVENT_TCP_PROGRESS) { this.decodeErrors++; return; }
      const r = decodeTcp(batch, offset, view);
      this.agg.add(r);
      if (this.settings.logs.failed_connects && this.ctx.emitLog && kind === KotelEventKind.KOTEL_EVENT_TCP_CLOSE && !r.established && r.direction === TcpDirection.TCP_DIR_OUTBOUND) {
        const reason = connectFailureReason(r.err);
        const time = this.ctx.clock.toHrTime(r.tsNs);
        this.ctx.emitLog({
          hrTime: time, hrTimeObserved: this.ctx.clock.now(), severityNumber: SeverityNumber.WARN, severityText: 'WARN',
          body: `connect to ${r.family === 10 ? `[${r.peer}]` : r.peer}:${r.dport} failed: ${reason}`,
          resource: this.ctx.processes.resource(r.tgid, r.comm), instrumentationScope: SCOPE, droppedAttributesCount: 0,
          attributes: { [ATTR_ERROR_TYPE]: reason, [ATTR_NETWORK_PEER_ADDRESS]: r.peer, [ATTR_SERVER_PORT]: r.dport, [ATTR_NETWORK_TRANSPORT]: 'tcp' },
        });
      }
    });
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.finalMetrics) return this.finalMetrics;
    const out: ResourceMetrics[] = [];
    for (const [tgid, proc] of this.agg.procs) {
      const io: Point[] = [], conns: Point[] = [], fails: Point[] = [], retrans: Point[] = [], resets: Point[] = [];
      const connect: HistogramPoint[] = [], lifetime: HistogramPoint[] = [];
      for (const s of proc.peers.values()) {
        io.push({ attributes: { ...s.attrs, [ATTR_NETWORK_IO_DIRECTION]: 'transmit' }, value: s.sent, startTime: s.start });
        io.push({ attributes: { ...s.attrs, [ATTR_NETWORK_IO_DIRECTION]: 'receive' }, value: s.recv, startTime: s.start });
        conns.push({ attributes: s.attrs, value: s.connections, startTime: s.start });
        for (const [reason, n] of s.failures) fails.push({ attributes: { ...s.attrs, [ATTR_ERROR_TYPE]: reason }, value: n, startTime: s.start });
        if (s.retrans) retrans.push({ attributes: s.attrs, value: s.retrans, startTime: s.start });
        if (s.rstSent) resets.push({ attributes: { ...s.attrs, [ATTR_LINUX_TCP_RESET_DIRECTION]: 'sent' }, value: s.rstSent, startTime: s.start });
        if (s.rstRecv) resets.push({ attributes: { ...s.attrs, [ATTR_LINUX_TCP_RESET_DIRECTION]: 'received' }, value: s.rstRecv, startTime: s.start });
        const h = (v: ValueHistogram): HistogramPoint => ({ attributes: s.attrs, startTime: s.start, count: v.count, sum: v.sum, min: v.min, max: v.max, counts: [...v.counts] });
        if (s.connect.count) connect.push(h(s.connect));
        if (s.lifetime.count) lifetime.push(h(s.lifetime));
      }
      const metrics: MetricData[] = [
        cumulativeSum(METRIC_PROCESS_NETWORK_IO, 'By', 'TCP payload bytes sent and received, per peer.', now, io),
        cumulativeSum(METRIC_LINUX_TCP_CONNECTIONS, '{connection}', 'TCP connections established (outbound connects, inbound accepts), per peer.', now, conns),
      ];
      if (fails.length) metrics.push(cumulativeSum(METRIC_LINUX_TCP_CONNECT_FAILURES, '{connect}', 'Outbound connects that never reached ESTABLISHED, by reason.', now, fails));
      if (retrans.length) metrics.push(cumulativeSum(METRIC_LINUX_TCP_RETRANSMITS, '{segment}', 'Retransmitted TCP segments.', now, retrans));
      if (resets.length) metrics.push(cumulativeSum(METRIC_LINUX_TCP_RESETS, '{reset}', 'TCP resets sent and received on this process\'s connections.', now, resets));
      if (connect.length) metrics.push(histogram(METRIC_LINUX_TCP_CONNECT_DURATION, 's', 'Connect latency: SYN_SENT → ESTABLISHED.', now, this.settings.connect_buckets, connect));
      if (lifetime.length) metrics.push(histogram(METRIC_LINUX_TCP_CONNECTION_DURATION, 's', 'Connection lifetime: established (or connect) → close.', now, this.settings.lifetime_buckets, lifetime));
      if (proc.folds) metrics.push(cumulativeSum(METRIC_LINUX_TCP_PEER_FOLDS, '{connection}', 'Records folded into the "other" peer series by max_peers_per_process.', now, [{ attributes: {}, value: proc.folds, startTime: proc.start }]));
      out.push(resourceMetrics(this.ctx.processes.resource(tgid, proc.comm), SCOPE, metrics));
      // Exited processes are exported one last time, then dropped.
      if (proc.deadSeen) this.agg.procs.delete(tgid);
      else if (!this.ctx.processes.isAlive(tgid)) proc.deadSeen = true;
    }
    return out;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    const loaded = this.loaded;
    if (loaded && this.ring && wasRunning) {
      await detachAndDrain(loaded, this.ring);
      this.finalMetrics = this.collectMetrics(this.ctx.clock.now());
    }
    this.state = 'stopped';
    this.ring?.close();
    loaded?.object.close();
    this.loaded = undefined;
  }
}

function checkTcp(): CheckItem[] {
  return hookChecks({
    variants: VARIANTS, label: 'sock/inet_sock_set_state', object: OBJECT,
    detail: 'no hook available (tp_btf with BPF_MAP_TYPE_SK_STORAGE is required)',
    fix: 'a kernel with BTF and the sock:sock_send_length tracepoint (6.3+)',
  });
}

export const tcpReceiver: ReceiverFactory<TcpSettings> = {
  type: 'tcp',
  description: 'TCP connections per process and peer: connects/accepts, connect latency, failures, lifetime, bytes, retransmits, resets',
  signals: ['logs', 'metrics'],
  schema: tcpSchema,
  check: checkTcp,
  create: (ctx) => new TcpReceiver(ctx),
};
