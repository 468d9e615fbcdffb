// The process table: pid → identity (executable, command line with secrets redacted, owner,
// parent, start time, cgroup → container / pod / QoS, service.name), read from /proc once per
// process (all existing processes once at start, then on exec), kept bounded (LRU), re-read
// after a TTL, and evicted shortly after exit. Every receiver's enrichment goes through it.
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  ATTR_CONTAINER_ID, ATTR_CONTAINER_NAME, ATTR_CONTAINER_RUNTIME_NAME, ATTR_HOST_NAME, ATTR_K8S_CONTAINER_NAME, ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME, ATTR_K8S_POD_NAME, ATTR_K8S_POD_UID, ATTR_KOTEL_K8S_POD_QOS_CLASS, ATTR_PROCESS_COMMAND_LINE, ATTR_PROCESS_CREATION_TIME,
  ATTR_PROCESS_EXECUTABLE_NAME, ATTR_PROCESS_EXECUTABLE_PATH, ATTR_PROCESS_OWNER, ATTR_PROCESS_PID, ATTR_PROCESS_PARENT_PID,
  ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_NAMESPACE,
} from '../semconv/attributes.ts';
import { cgroupIdentity, type QosClass } from './container-id.ts';
import { CgroupPaths, parseProcCgroup } from './cgroups.ts';
import { K8sMetadata } from './k8s.ts';
import { parseEnviron, resolveService } from './service-name.ts';

export interface ProcessInfo {
  pid: number;
  parentPid?: number;
  executableName: string;
  executablePath?: string;
  commandLine?: string;
  owner?: string;
  /** ms since the epoch */
  startTimeMs?: number;
  /** Start in clock ticks since boot, as /proc/<pid>/stat has it: identifies the process behind a pid. */
  startTicks?: number;
  /** The kernel's task start time (CLOCK_MONOTONIC ns) from an exec record: compared as is with an exit's. */
  startNs?: bigint;
  cgroupPath?: string;
  /** The v2 path and the v1 controllers' paths from /proc/<pid>/cgroup (what the cgroups receiver reads). */
  cgroupV2Path?: string;
  cgroupV1Paths?: Map<string, string>;
  cgroupId?: bigint;
  containerId?: string;
  containerRuntime?: string;
  containerName?: string;
  podUid?: string;
  podName?: string;
  namespace?: string;
  nodeName?: string;
  qosClass?: QosClass;
  serviceName?: string;
  serviceNamespace?: string;
  serviceInstanceId?: string;
  /** Set once the process table saw it exit. */
  exited?: boolean;
}

export interface ProcessCacheOptions {
  procRoot?: string;
  maxEntries?: number;
  ttlMs?: number;                 // re-read after this long: exec changes a pid's identity
  exitGraceMs?: number;           // keep an exited process this long for late records
  redactPatterns?: RegExp[];
  k8s?: K8sMetadata;
  cgroups?: CgroupPaths;
}

// Values of flags and variables that are secrets by name.
export const DEFAULT_REDACT = [/((?:^|[\s-])(?:-{0,2})(?:password|passwd|pwd|secret|token|api[-_]?key|access[-_]?key|auth)[=: ])\S+/gi];

/** Compiles configured patterns: a group 1 (if any) is kept, the rest of the match becomes REDACTED. */
export function compileRedactPatterns(patterns: string[]): RegExp[] {
  return patterns.map((p) => new RegExp(p, 'gi'));
}

interface Entry { info: ProcessInfo; resource: Resource; workload: Resource; readAt: number; exitedAt?: number }

/** Facts the kernel reported with an exec, used when /proc is already gone. */
export interface ExecFacts { ppid?: number; uid?: number; filename?: string; comm?: string; cgroupId?: bigint; startTimeMs?: number; startNs?: bigint }

// /proc start times are clock ticks (USER_HZ = 100) since boot; the kernel's events carry nanoseconds.
const PID_REUSE_TOLERANCE_TICKS = 2;
const nsToTicks = (ns: bigint) => Number(ns / 10_000_000n);

export class ProcessCache {
  private bootOffsetNs = 0n;
  private bootOffsetReadAt = 0;
  private readonly entries = new Map<number, Entry>();
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly exitGraceMs: number;
  private redact: RegExp[];
  private readonly host = hostname();
  private readonly users = new Map<number, string>();
  private readonly workloads = new Map<string, Resource>();
  private bootTimeMs: number | undefined;
  readonly k8s: K8sMetadata;
  readonly cgroups: CgroupPaths;
  hits = 0;
  misses = 0;
  evictions = 0;
  procReads = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.maxEntries = opts.maxEntries ?? 4096;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.exitGraceMs = opts.exitGraceMs ?? 5_000;
    this.redact = opts.redactPatterns ?? DEFAULT_REDACT;
    this.k8s = opts.k8s ?? new K8sMetadata();
    this.cgroups = opts.cgroups ?? new CgroupPaths();
  }

  get size(): number { return this.entries.size; }

  /** Replaces the command-line redaction patterns (process receiver settings); cached lines are re-read. */
  setRedactPatterns(patterns: RegExp[]): void {
    this.redact = patterns;
    for (const e of this.entries.values()) e.readAt = -Infinity;
  }

  /** `comm` is the kernel's name for the task, used when the process is already gone. */
  info(tgid: number, comm = ''): ProcessInfo {
    return this.entry(tgid, comm).info;
  }

  resource(tgid: number, comm = ''): Resource {
    return this.entry(tgid, comm).resource;
  }

  /** The workload's resource without per-process attributes (for aggregates across processes). */
  workloadResource(tgid: number, comm = ''): Resource {
    return this.entry(tgid, comm).workload;
  }

  /** Cached info only (no /proc read; not counted as a hit or miss). */
  peek(tgid: number): ProcessInfo | undefined {
    return this.entries.get(tgid)?.info;
  }

  /** Cached workload resource only (no /proc read; not counted as a hit or miss). */
  peekWorkload(tgid: number): Resource | undefined {
    return this.entries.get(tgid)?.workload;
  }

  /** Every cached process that has not exited (no /proc read). */
  *live(): IterableIterator<ProcessInfo> {
    for (const e of this.entries.values()) if (e.exitedAt === undefined) yield e.info;
  }

  forget(tgid: number): void {
    this.entries.delete(tgid);
  }

  isAlive(tgid: number): boolean {
    const e = this.entries.get(tgid);
    if (e?.exitedAt !== undefined) return false;
    try {
      readFileSync(`${this.procRoot}/${tgid}/stat`);
      return true;
    } catch {
      return false;
    }
  }

  /** Reads every process in /proc once (processes that existed before the agent started). */
  scan(): number {
    let n = 0;
    let pids: string[];
    try { pids = readdirSync(this.procRoot).filter((d) => /^\d+$/.test(d)); } catch { return 0; }
    for (const d of pids) {
      if (this.entries.size >= this.maxEntries) break;
      const tgid = Number(d);
      if (this.entries.has(tgid)) continue;
      const info = this.read(tgid, '');
      if (info) { this.store(tgid, info, Date.now()); n++; }
    }
    return n;
  }

  /** A process exec'ed: its identity changed; re-read now (falls back to the kernel's facts). */
  onExec(tgid: number, facts: ExecFacts = {}): ProcessInfo {
    const now = Date.now();
    const info = this.read(tgid, facts.comm ?? '') ?? this.fromFacts(tgid, facts);
    if (facts.ppid !== undefined && info.parentPid === undefined) info.parentPid = facts.ppid;
    if (facts.startTimeMs !== undefined && info.startTimeMs === undefined) info.startTimeMs = facts.startTimeMs;
    if (facts.startNs !== undefined && info.startTicks === undefined) info.startTicks = this.bootTicks(facts.startNs);
    if (facts.startNs !== undefined) info.startNs = facts.startNs;
    this.store(tgid, info, now);
    return info;
  }

  /**
   * A process exited: keep its identity for late records, then evict (sweepExited). `startNs`
   * (the kernel's task start time) tells a reused pid from the process the table remembers: a
   * child that forked without exec'ing must not inherit an exited process's identity.
   */
  onExit(tgid: number, comm = '', startNs?: bigint): ProcessInfo {
    let e = this.entries.get(tgid);
    if (e && startNs !== undefined && this.otherProcess(e.info, startNs)) {
      this.entries.delete(tgid);
      e = undefined;
    }
    e ??= this.store(tgid, this.read(tgid, comm) ?? { pid: tgid, executableName: comm || String(tgid) }, Date.now());
    e.info.exited = true;
    e.exitedAt = Date.now();
    return e.info;
  }

  /** Whether an exit's start time says its pid is not the process the table remembers. The kernel's
   * own start time when the exec record gave one (exact); else /proc's, converted (a few ticks of
   * slack: the conversion goes through /proc/uptime, which has 10 ms steps and is read apart from the clock). */
  private otherProcess(info: ProcessInfo, startNs: bigint): boolean {
    if (info.startNs !== undefined) return info.startNs !== startNs;
    return info.startTicks !== undefined && Math.abs(info.startTicks - this.bootTicks(startNs)) > PID_REUSE_TOLERANCE_TICKS;
  }

  /**
   * The kernel's task start time is CLOCK_MONOTONIC; /proc counts CLOCK_BOOTTIME, which also runs
   * while suspended. The offset between the two is re-read from /proc/uptime at most once a second.
   */
  private bootTicks(monotonicNs: bigint): number {
    const now = Date.now();
    if (now - this.bootOffsetReadAt > 1000) {
      try {
        const before = process.hrtime.bigint();
        const uptime = readFileSync(`${this.procRoot}/uptime`, 'utf8');
        const after = process.hrtime.bigint();
        // /proc/uptime is cut to 10 ms: take the middle of its step, against the middle of the read
        const uptimeNs = BigInt(Math.round(Number(uptime.split(' ')[0]) * 1e9)) + 5_000_000n;
        this.bootOffsetNs = uptimeNs - (before + after) / 2n;
        if (this.bootOffsetNs < 0n) this.bootOffsetNs = 0n;  // uptime has 10 ms resolution
      } catch { /* keep the last offset */ }
      this.bootOffsetReadAt = now;
    }
    return nsToTicks(monotonicNs + this.bootOffsetNs);
  }

  /** Evicts processes that exited more than exitGraceMs ago. */
  sweepExited(now = Date.now()): number {
    let n = 0;
    for (const [tgid, e] of this.entries) {
      if (e.exitedAt !== undefined && now - e.exitedAt >= this.exitGraceMs) { this.entries.delete(tgid); n++; }
    }
    this.evictions += n;
    return n;
  }

  private fromFacts(tgid: number, f: ExecFacts): ProcessInfo {
    const info: ProcessInfo = { pid: tgid, executableName: f.filename ? basename(f.filename) : f.comm || String(tgid) };
    if (f.filename) info.executablePath = f.filename;
    if (f.ppid !== undefined) info.parentPid = f.ppid;
    if (f.uid !== undefined) info.owner = this.userName(f.uid);
    if (f.cgroupId !== undefined) {
      info.cgroupId = f.cgroupId;
      const path = this.cgroups.path(f.cgroupId);
      if (path) this.applyCgroup(info, path);
    }
    this.applyService(info, undefined);
    return info;
  }

  private entry(tgid: number, comm: string): Entry {
    const now = Date.now();
    const hit = this.entries.get(tgid);
    if (hit && (hit.exitedAt !== undefined || now - hit.readAt < this.ttlMs)) {
      this.hits++;
      // Refresh recency for LRU eviction.
      this.entries.delete(tgid);
      this.entries.set(tgid, hit);
      return hit;
    }
    this.misses++;
    const info = this.read(tgid, comm) ?? hit?.info ?? { pid: tgid, executableName: comm || String(tgid) };
    return this.store(tgid, info, now);
  }

  private store(tgid: number, info: ProcessInfo, now: number): Entry {
    const entry: Entry = { info, resource: this.toResource(info), workload: this.toWorkload(info), readAt: now };
    this.entries.delete(tgid);
    this.entries.set(tgid, entry);
    if (this.entries.size > this.maxEntries) { this.entries.delete(this.entries.keys().next().value!); this.evictions++; }
    return entry;
  }

  private read(tgid: number, comm: string): ProcessInfo | undefined {
    const dir = `${this.procRoot}/${tgid}`;
    let status: string;
    try {
      status = readFileSync(`${dir}/status`, 'utf8');
    } catch {
      return undefined;
    }
    this.procReads++;
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1];
    const info: ProcessInfo = { pid: tgid, executableName: comm || field('Name') || String(tgid) };
    const ppid = Number(field('PPid'));
    if (Number.isFinite(ppid)) info.parentPid = ppid;
    try {
      info.executablePath = readlinkSync(`${dir}/exe`).replace(/ \(deleted\)$/, '');
      info.executableName = basename(info.executablePath);
    } catch { /* kernel threads and exited processes have no exe */ }
    try {
      const argv = readFileSync(`${dir}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length) info.commandLine = this.redactSecrets(argv.join(' '));
    } catch { /* gone */ }
    const uid = Number(field('Uid')?.split(/\s+/)[0]);
    if (Number.isFinite(uid)) info.owner = this.userName(uid);
    try {
      const stat = readFileSync(`${dir}/stat`, 'utf8');
      const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      const boot = this.bootTime();
      if (Number.isFinite(ticks)) info.startTicks = ticks;
      if (Number.isFinite(ticks) && boot !== undefined) info.startTimeMs = boot + ticks * 10;  // USER_HZ = 100
    } catch { /* gone */ }
    try {
      const cg = parseProcCgroup(readFileSync(`${dir}/cgroup`, 'utf8'));
      // v2 path first; on hybrid hosts containers may only be visible in a v1 hierarchy's path.
      const candidates = [cg.v2, cg.v1.get('memory'), cg.v1.get('cpu'), cg.v1.get('name=systemd'), ...cg.v1.values()].filter((p): p is string => !!p);
      const path = candidates.find((p) => { const id = cgroupIdentity(p); return id.containerId || id.podUid; }) ?? cg.v2 ?? candidates[0];
      if (path) this.applyCgroup(info, path);
      if (cg.v2 !== undefined) info.cgroupV2Path = cg.v2;
      if (cg.v1.size) info.cgroupV1Paths = cg.v1;
      if (cg.v2) { const id = this.cgroups.register(cg.v2); if (id !== undefined) info.cgroupId = id; }
    } catch { /* gone */ }
    let environ: Map<string, string> | undefined;
    try { environ = parseEnviron(readFileSync(`${dir}/environ`)); } catch { /* gone or not permitted */ }
    this.applyService(info, environ);
    return info;
  }

  private applyCgroup(info: ProcessInfo, path: string): void {
    info.cgroupPath = path;
    const id = cgroupIdentity(path);
    if (id.containerId) info.containerId = id.containerId;
    if (id.runtime) info.containerRuntime = id.runtime;
    if (id.podUid) info.podUid = id.podUid;
    if (id.qosClass) info.qosClass = id.qosClass;
  }

  private applyService(info: ProcessInfo, environ: Map<string, string> | undefined): void {
    const pod = info.podUid ? this.k8s.pod(info.podUid) : undefined;
    if (pod) {
      info.podName = pod.name;
      info.namespace = pod.namespace;
      info.nodeName = pod.nodeName;
      if (info.containerId) info.containerName = pod.containers.get(info.containerId);
    }
    const svc = resolveService({ environ, pod, containerName: info.containerName, executableName: info.executableName });
    info.serviceName = svc.name;
    if (svc.namespace) info.serviceNamespace = svc.namespace;
    if (svc.instanceId) info.serviceInstanceId = svc.instanceId;
  }

  private bootTime(): number | undefined {
    if (this.bootTimeMs === undefined) {
      try {
        const btime = /^btime (\d+)$/m.exec(readFileSync(`${this.procRoot}/stat`, 'utf8'))?.[1];
        if (btime) this.bootTimeMs = Number(btime) * 1000;
      } catch { /* no /proc/stat */ }
    }
    return this.bootTimeMs;
  }

  private redactSecrets(commandLine: string): string {
    return this.redact.reduce((s, re) => s.replace(re, (m, keep: unknown) => (typeof keep === 'string' ? `${keep}REDACTED` : 'REDACTED')), commandLine);
  }

  private userName(uid: number): string {
    if (this.users.size === 0) {
      try {
        for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
          const [name, , id] = line.split(':');
          if (name && id) this.users.set(Number(id), name);
        }
      } catch { /* no passwd: numeric owners */ }
    }
    return this.users.get(uid) ?? String(uid);
  }

  private workloadAttributes(info: ProcessInfo): Record<string, string> {
    const attrs: Record<string, string> = { [ATTR_HOST_NAME]: this.host };
    if (info.serviceName) attrs[ATTR_SERVICE_NAME] = info.serviceName;
    if (info.serviceNamespace) attrs[ATTR_SERVICE_NAMESPACE] = info.serviceNamespace;
    if (info.containerId) attrs[ATTR_CONTAINER_ID] = info.containerId;
    if (info.containerRuntime) attrs[ATTR_CONTAINER_RUNTIME_NAME] = info.containerRuntime;
    if (info.containerName) { attrs[ATTR_CONTAINER_NAME] = info.containerName; attrs[ATTR_K8S_CONTAINER_NAME] = info.containerName; }
    if (info.podUid) attrs[ATTR_K8S_POD_UID] = info.podUid;
    if (info.qosClass) attrs[ATTR_KOTEL_K8S_POD_QOS_CLASS] = info.qosClass;
    if (info.podName) attrs[ATTR_K8S_POD_NAME] = info.podName;
    if (info.namespace) attrs[ATTR_K8S_NAMESPACE_NAME] = info.namespace;
    if (info.nodeName) attrs[ATTR_K8S_NODE_NAME] = info.nodeName;
    return attrs;
  }

  private toWorkload(info: ProcessInfo): Resource {
    const attrs = this.workloadAttributes(info);
    const key = JSON.stringify(attrs);
    let r = this.workloads.get(key);
    if (!r) {
      r = resourceFromAttributes(attrs);
      this.workloads.set(key, r);
      if (this.workloads.size > this.maxEntries) this.workloads.delete(this.workloads.keys().next().value!);
    }
    return r;
  }

  private toResource(info: ProcessInfo): Resource {
    const attrs: Record<string, string | number> = {
      ...this.workloadAttributes(info),
      [ATTR_PROCESS_PID]: info.pid,
      [ATTR_PROCESS_EXECUTABLE_NAME]: info.executableName,
    };
    if (info.serviceInstanceId) attrs[ATTR_SERVICE_INSTANCE_ID] = info.serviceInstanceId;
    if (info.parentPid !== undefined) attrs[ATTR_PROCESS_PARENT_PID] = info.parentPid;
    if (info.executablePath) attrs[ATTR_PROCESS_EXECUTABLE_PATH] = info.executablePath;
    if (info.commandLine) attrs[ATTR_PROCESS_COMMAND_LINE] = info.commandLine;
    if (info.owner) attrs[ATTR_PROCESS_OWNER] = info.owner;
    if (info.startTimeMs !== undefined) attrs[ATTR_PROCESS_CREATION_TIME] = new Date(info.startTimeMs).toISOString();
    return resourceFromAttributes(attrs);
  }
}
