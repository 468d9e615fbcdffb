// The `http` receiver: HTTP/1.x exchanges paired in the kernel (one record per exchange)
// become server/client spans and the http.{server,client}.request.duration histograms.
import type { HrTime } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { RingReader, forEachRecord } from '../../../native/index.ts';
import { detachAndDrain, loadAndAttach, ReceiverLoadError, u8, u32, type HookVariant, type LoadedProgram } from '../../bpf/loader.ts';
import { THREAD_CTX_MAP } from '../../bpf/shared-maps.ts';
import { kernelStatsSource, programStatsSource, ringStatsSource } from '../../bpf/telemetry.ts';
import { resourceMetrics } from '../../pipeline/metric-data.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import { SpanSlab } from '../../pipeline/kernel-span.ts';
import {
  ATTR_KOTEL_RECEIVER, METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, METRIC_HTTP_CLIENT_REQUEST_DURATION, METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE,
  METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, METRIC_HTTP_SERVER_REQUEST_DURATION, METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE,
} from '../../semconv/attributes.ts';
import type { CheckItem, Receiver, ReceiverContext, ReceiverFactory } from '../receiver.ts';
import { hookChecks } from '../checks.ts';
import { HTTP_EVENT_SIZE, HttpRecord } from './decode.ts';
import { HttpFlag } from './http.layout.ts';
import { KotelEventKind } from '../../bpf/kotel-event.layout.ts';
import { HistogramSet } from './metrics.ts';
import { HeadCache, mapExchange, recordSpan, type MappingOptions } from './mapping.ts';
import { DEFAULT_SIZE_BUCKETS, httpSchema, withDefaults, type HttpSettings } from './settings.ts';
import { PathTemplater } from './templater.ts';
import { attachTls, reportRejected, resolveTlsTargets, tlsCandidates, tlsCheckItems, uprobeMultiType, TLS_PROGRAMS } from './tls.ts';
import { sampleExchange } from './sampling.ts';
import { describeSelection, portBitmap, portFilter } from './selection.ts';

const OBJECT = 'http.bpf.o';
// Sock tracepoints (6.3+): fire only for socket I/O. Syscall exits: the fallback on older kernels.
const SOCK_LABEL = 'sock:sock_send_length/sock_recv_length';
const SYSCALLS_LABEL = 'raw_syscalls/sys_exit + sock:inet_sock_set_state';
const SOCK_VARIANTS: HookVariant[] = [
  { kind: 'tp_btf', programs: ['sock_send_btf', 'sock_recv_btf', 'sock_state_btf'], tracepoint: 'sock/sock_send_length', label: SOCK_LABEL },
];
const SYSCALL_VARIANTS: HookVariant[] = [
  { kind: 'raw_tp', programs: ['sys_exit_raw', 'sock_state_raw'], tracepoint: 'raw_syscalls/sys_exit', label: SYSCALLS_LABEL },
  { kind: 'tracepoint', programs: ['sys_exit_tp', 'sock_state_tp'], tracepoint: 'raw_syscalls/sys_exit', label: SYSCALLS_LABEL },
];
const ALL_PROGRAMS = [...SOCK_VARIANTS, ...SYSCALL_VARIANTS].flatMap((v) => v.programs);

/** The variants `hooks` and `hook` allow, in order of preference. */
export function httpVariants(hooks: HttpSettings['hooks'], hook: HttpSettings['hook']): HookVariant[] {
  const family = hooks === 'sock' ? SOCK_VARIANTS : hooks === 'syscalls' ? SYSCALL_VARIANTS : [...SOCK_VARIANTS, ...SYSCALL_VARIANTS];
  return hook === 'auto' ? family : family.filter((v) => v.kind === hook);
}

export const isSyscallVariant = (v: HookVariant) => SYSCALL_VARIANTS.includes(v);

const mismatch = (s: HttpSettings) => `hook: ${s.hook} is not a program type of hooks: ${s.hooks} (sock: tp_btf; syscalls: raw_tp, tracepoint)`;

/** What the ready line and `kotel check` name: the program type and the hooks. */
export function attachedName(v: HookVariant): string {
  return isSyscallVariant(v) ? `${v.kind}/sys_exit+inet_sock_set_state` : `${v.kind}/sock_send_length+sock_recv_length`;
}
const SCOPE = receiverScope('http');
const RETIRE_AFTER_COLLECTIONS = 3;

interface ProcessMetrics { comm: string; sets: HistogramSet[]; deadCollections: number }

class HttpReceiver implements Receiver {
  readonly id: string;
  attachedTo = '';
  private readonly ctx: ReceiverContext<HttpSettings>;
  private readonly settings: HttpSettings;
  private readonly mapping: MappingOptions;
  private loaded: LoadedProgram | undefined;
  private ring: RingReader | undefined;
  private decodeErrors = 0;
  private state: 'idle' | 'running' | 'draining' | 'stopped' = 'idle';
  private readonly byProcess = new Map<number, ProcessMetrics>();
  private finalMetrics: ResourceMetrics[] | undefined;
  exchanges = 0;
  private sampledOut = 0;
  private readonly record = new HttpRecord(Buffer.alloc(0), new DataView(new ArrayBuffer(0)), 0);
  private readonly slab = new SpanSlab();
  private readonly batchResources = new Map<number, Resource>();
  /** The ports setting, for TLS records: the kernel tests a TLS connection's port only if it knew the socket in time. */
  private readonly portWanted: ReturnType<typeof portFilter>;

  constructor(ctx: ReceiverContext<HttpSettings>) {
    this.ctx = ctx;
    this.id = ctx.id;
    this.settings = withDefaults(ctx.settings);
    this.portWanted = portFilter(this.settings.ports);
    this.mapping = {
      templater: new PathTemplater(this.settings.routes),
      captureQuery: this.settings.capture_query,
      captureUserAgent: this.settings.capture_user_agent,
      heads: new HeadCache(),
    };
  }

  async start(): Promise<void> {
    const tls = resolveTlsTargets(tlsCandidates(this.settings.tls));
    reportRejected(this.id, tls.rejected, this.ctx.diag);
    const multiType = uprobeMultiType();
    const variants = httpVariants(this.settings.hooks, this.settings.hook);
    if (!variants.length) throw new ReceiverLoadError(this.id, [mismatch(this.settings)]);
    this.loaded = loadAndAttach({
      receiver: this.id,
      object: OBJECT,
      variants,
      sharedMaps: [THREAD_CTX_MAP],
      globals: {
        self_tgid: u32(process.pid),
        req_head_size: u32(this.settings.request_head_size),
        resp_head_size: u32(this.settings.response_head_size),
        tls_enabled: u8(tls.targets.length ? 1 : 0),
        capture_server: u8(this.settings.server ? 1 : 0),
        capture_client: u8(this.settings.client ? 1 : 0),
        any_port: u8(this.settings.ports.length ? 0 : 1),
        port_set: portBitmap(this.settings.ports),
        // Kernels before 5.17 lack bpf_loop and get a bounded loop (chosen in the object by CO-RE);
        // tests force that loop here so it is verified on this kernel too.
        no_loop_helper: u8(process.env.KOTEL_TEST_NO_BPF_LOOP === '1' ? 1 : 0),
      },
      // the programs of variants `hooks`/`hook` exclude stay unloaded (they may not verify here)
      skipPrograms: [...ALL_PROGRAMS.filter((p) => !variants.some((v) => v.programs.includes(p))), ...(tls.targets.length ? [] : TLS_PROGRAMS)],
      beforeLoad: (obj, variant) => {
        // uprobe_multi programs say so at load (they cannot then attach as perf-event uprobes)
        if (tls.targets.length && multiType !== undefined) for (const p of TLS_PROGRAMS) obj.setExpectedAttachType(p, multiType);
        obj.map('tls_conns').setMaxEntries(this.settings.tls.max_connections);
        // the sock hooks keep connections in socket storage: the syscall path's LRU stays minimal
        obj.map('sk_conns').setMaxEntries(isSyscallVariant(variant) ? this.settings.max_connections : 1);
      },
    });
    const { object, variant, skipped } = this.loaded;
    this.attachedTo = attachedName(variant);
    for (const s of skipped) this.ctx.diag.info(`${this.id}: not using ${s}`);
    const selection = describeSelection(this.settings);
    if (selection) this.ctx.diag.info(`${this.id}: following ${selection}`);
    const probed = attachTls(object, this.id, tls.targets, this.ctx.diag, multiType !== undefined);
    if (probed.length) {
      const how = multiType !== undefined ? 'uprobe_multi links' : 'perf-event uprobes';
      this.ctx.diag.info(`${this.id}: HTTPS through uprobes (${how}) on ${probed.map((t) => t.path).join(', ')}`);
    }
    if (this.ctx.bpfRunTimeStats) object.enableRunTimeStats();
    this.ring = new RingReader(object.map('events'), (batch, count) => this.onBatch(batch, count), { intervalMs: 10 });
    this.ring.unref();
    const t = this.ctx.selfTelemetry;
    t.addSource(ringStatsSource(this.id, this.ring, () => this.decodeErrors));
    t.addSource(kernelStatsSource(this.id, object.map('stats')));
    t.addSource(programStatsSource(this.id, object, [...variant.programs, ...(probed.length ? TLS_PROGRAMS : [])]));
    if (this.ctx.emitSpan) t.addSource((observe) => observe('kotel.receiver.spans.sampled_out', { [ATTR_KOTEL_RECEIVER]: this.id }, this.sampledOut));
    this.state = 'running';
  }

  private setsFor(tgid: number, rec: HttpRecord): HistogramSet[] {
    let p = this.byProcess.get(tgid);
    if (!p) {
      const comm = rec.comm;
      const exp = this.settings.histogram === 'exponential';
      const d = this.settings.duration_buckets;
      p = {
        comm,
        deadCollections: 0,
        sets: [
          new HistogramSet(METRIC_HTTP_SERVER_REQUEST_DURATION, 's', 'Duration of HTTP server requests.', d, exp),
          new HistogramSet(METRIC_HTTP_CLIENT_REQUEST_DURATION, 's', 'Duration of HTTP client requests.', d, exp),
          new HistogramSet(METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, 'By', 'Size of HTTP server request bodies.', DEFAULT_SIZE_BUCKETS, exp),
          new HistogramSet(METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE, 'By', 'Size of HTTP server response bodies.', DEFAULT_SIZE_BUCKETS, exp),
          new HistogramSet(METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, 'By', 'Size of HTTP client request bodies.', DEFAULT_SIZE_BUCKETS, exp),
          new HistogramSet(METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE, 'By', 'Size of HTTP client response bodies.', DEFAULT_SIZE_BUCKETS, exp),
        ],
      };
      this.byProcess.set(tgid, p);
    }
    return p.sets;
  }

  private onBatch(batch: Buffer, count: number): void {
    if (this.state !== 'running' && this.state !== 'draining') return;
    const now = this.ctx.clock.now();
    const rec = this.record;
    // A few processes fill a batch: look each one's resource up once per batch.
    const resources = this.batchResources;
    resources.clear();
    forEachRecord(batch, count, (view, offset, length) => {
      if (length < HTTP_EVENT_SIZE || view.getUint16(offset, true) !== KotelEventKind.KOTEL_EVENT_HTTP_EXCHANGE) {
        this.decodeErrors++;
        return;
      }
      rec.at(batch, view, offset);
      if (this.portWanted && (rec.flags & HttpFlag.HTTP_F_TLS) !== 0 && !this.portWanted(rec)) return;
      // Sampled out: no span object is built (the metrics below still count the exchange).
      let emit = this.ctx.emitSpan !== undefined;
      if (emit && this.ctx.sampler && !sampleExchange(rec, this.ctx.sampler)) { emit = false; this.sampledOut++; }
      const m = mapExchange(rec, this.mapping, emit);
      this.exchanges++;
      const tgid = rec.tgid;
      const sets = this.setsFor(tgid, rec);
      const base = m.server ? 0 : 1;
      sets[base].record(m.metricKey, m.metricAttributes, rec.durationNs / 1e9, now);
      if (m.requestBodySize !== undefined) sets[m.server ? 2 : 4].record(m.metricKey, m.metricAttributes, m.requestBodySize, now);
      if (m.responseBodySize !== undefined) sets[m.server ? 3 : 5].record(m.metricKey, m.metricAttributes, m.responseBodySize, now);
      if (emit) {
        let resource = resources.get(tgid);
        if (!resource) resources.set(tgid, resource = this.ctx.processes.resource(tgid, rec.comm));
        this.ctx.emitSpan!(recordSpan(rec, m, this.ctx.clock, this.slab, resource, SCOPE));
      }
    });
  }

  collectMetrics(now: HrTime): ResourceMetrics[] {
    if (this.finalMetrics) return this.finalMetrics;
    const out: ResourceMetrics[] = [];
    for (const [tgid, p] of this.byProcess) {
      const metrics = p.sets.map((s) => s.data(now)).filter((d) => d !== undefined);
      if (metrics.length) out.push(resourceMetrics(this.ctx.processes.resource(tgid, p.comm), SCOPE, metrics));
      // An exited process's series are exported a few more times, then forgotten (bounded memory).
      if (!this.ctx.processes.isAlive(tgid) && ++p.deadCollections > RETIRE_AFTER_COLLECTIONS) this.byProcess.delete(tgid);
    }
    return out;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'draining';
    const loaded = this.loaded;
    if (loaded && this.ring && wasRunning) {
      await detachAndDrain(loaded, this.ring, [...loaded.variant.programs, ...TLS_PROGRAMS]);
      this.finalMetrics = this.collectMetrics(this.ctx.clock.now());
    }
    this.ring?.close();
    loaded?.object.close();
    this.loaded = undefined;
    this.state = 'stopped';
  }
}

export function checkHttp(settings: Partial<HttpSettings>): CheckItem[] {
  const s = withDefaults(settings);
  if (!httpVariants(s.hooks, s.hook).length) return [{ what: 'receiver', ok: false, detail: mismatch(s), fix: 'set hook: auto' }];
  return [...hookChecks({
    variants: httpVariants(s.hooks, s.hook), label: SOCK_LABEL, object: OBJECT,
    fix: 'hooks: sock needs the sock:sock_send_length tracepoint (Linux 6.3+) and kernel BTF; hooks: syscalls needs raw_syscalls/sys_exit (raw_tp or tracefs) and BTF',
  }), ...tlsCheckItems(s.tls)];
}

export const httpReceiver: ReceiverFactory<HttpSettings> = {
  type: 'http',
  description: 'HTTP/1.x exchanges paired in the kernel as server/client spans and request-duration histograms',
  signals: ['traces', 'metrics'],
  schema: httpSchema,
  check: checkHttp,
  create: (ctx) => new HttpReceiver(ctx),
};
