// The observed processes' identity, read from /proc once per process and cached (bounded),
// turned into the OpenTelemetry resource every signal about that process carries.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  ATTR_CONTAINER_ID, ATTR_HOST_NAME, ATTR_PROCESS_COMMAND_LINE, ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_EXECUTABLE_PATH, ATTR_PROCESS_OWNER, ATTR_PROCESS_PID, ATTR_PROCESS_PARENT_PID,
} from '../semconv/attributes.ts';
import { containerIdFromCgroupPath } from './container-id.ts';

export interface ProcessInfo {
  pid: number;
  parentPid?: number;
  executableName: string;
  executablePath?: string;
  commandLine?: string;
  owner?: string;
  cgroupPath?: string;
  containerId?: string;
}

export interface ProcessCacheOptions {
  procRoot?: string;
  maxEntries?: number;
  ttlMs?: number;                 // re-read after this long: exec changes a pid's identity
  redactPatterns?: RegExp[];
}

// Values of flags and variables that are secrets by name.
export const DEFAULT_REDACT = [/((?:^|[\s-])(?:-{0,2})(?:password|passwd|pwd|secret|token|api[-_]?key|access[-_]?key|auth)[=: ])\S+/gi];

interface Entry { info: ProcessInfo; resource: Resource; readAt: number }

export class ProcessCache {
  private readonly entries = new Map<number, Entry>();
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly redact: RegExp[];
  private readonly host = hostname();
  private readonly users = new Map<number, string>();
  hits = 0;
  misses = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.maxEntries = opts.maxEntries ?? 4096;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.redact = opts.redactPatterns ?? DEFAULT_REDACT;
  }

  get size(): number { return this.entries.size; }

  /** `comm` is the kernel's name for the task, used when the process is already gone. */
  info(tgid: number, comm = ''): ProcessInfo {
    return this.entry(tgid, comm).info;
  }

  resource(tgid: number, comm = ''): Resource {
    return this.entry(tgid, comm).resource;
  }

  forget(tgid: number): void {
    this.entries.delete(tgid);
  }

  isAlive(tgid: number): boolean {
    try {
      readFileSync(`${this.procRoot}/${tgid}/stat`);
      return true;
    } catch {
      return false;
    }
  }

  private entry(tgid: number, comm: string): Entry {
    const now = Date.now();
    const hit = this.entries.get(tgid);
    if (hit && now - hit.readAt < this.ttlMs) {
      this.hits++;
      // Refresh recency for LRU eviction.
      this.entries.delete(tgid);
      this.entries.set(tgid, hit);
      return hit;
    }
    this.misses++;
    const info = this.read(tgid, comm) ?? hit?.info ?? { pid: tgid, executableName: comm || String(tgid) };
    const entry = { info, resource: this.toResource(info), readAt: now };
    this.entries.delete(tgid);
    this.entries.set(tgid, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
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
      const cgroup = readFileSync(`${dir}/cgroup`, 'utf8');
      const unified = /^0::(.*)$/m.exec(cgroup)?.[1];
      info.cgroupPath = unified ?? cgroup.split('\n')[0]?.split(':')[2];
      const id = info.cgroupPath && containerIdFromCgroupPath(info.cgroupPath);
      if (id) info.containerId = id;
    } catch { /* gone */ }
    return info;
  }

  private redactSecrets(commandLine: string): string {
    return this.redact.reduce((s, re) => s.replace(re, '$1REDACTED'), commandLine);
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

  private toResource(info: ProcessInfo): Resource {
    const attrs: Record<string, string | number> = {
      [ATTR_HOST_NAME]: this.host,
      [ATTR_PROCESS_PID]: info.pid,
      [ATTR_PROCESS_EXECUTABLE_NAME]: info.executableName,
    };
    if (info.parentPid !== undefined) attrs[ATTR_PROCESS_PARENT_PID] = info.parentPid;
    if (info.executablePath) attrs[ATTR_PROCESS_EXECUTABLE_PATH] = info.executablePath;
    if (info.commandLine) attrs[ATTR_PROCESS_COMMAND_LINE] = info.commandLine;
    if (info.owner) attrs[ATTR_PROCESS_OWNER] = info.owner;
    if (info.containerId) attrs[ATTR_CONTAINER_ID] = info.containerId;
    return resourceFromAttributes(attrs);
  }
}
