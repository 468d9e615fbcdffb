// `kotel check`: can this kernel, with these privileges, run each enabled receiver?
import { existsSync, readFileSync } from 'node:fs';
import type { AgentConfig } from '../config/index.ts';
import { libbpfVersion, numPossibleCpus } from '../../native/index.ts';
import type { CheckItem } from '../receivers/receiver.ts';
import { receiverFactory } from '../receivers/registry.ts';
import { hasBpfPrivileges, PRIVILEGE_FIX } from '../bpf/privileges.ts';

function mounted(path: string, fsType: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => { const f = l.split(' '); return f[1] === path && f[2] === fsType; });
}

export function hostChecks(): CheckItem[] {
  const privileged = hasBpfPrivileges();
  const items: CheckItem[] = [
    { what: 'privileges', ok: privileged, detail: privileged ? 'CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN present' : 'missing CAP_BPF/CAP_PERFMON', fix: PRIVILEGE_FIX },
    { what: 'kernel BTF', ok: existsSync('/sys/kernel/btf/vmlinux'), detail: '/sys/kernel/btf/vmlinux', fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y' },
    { what: 'tracefs', ok: existsSync('/sys/kernel/tracing/events'), detail: '/sys/kernel/tracing', fix: 'mount -t tracefs nodev /sys/kernel/tracing' },
    { what: 'bpffs', ok: mounted('/sys/fs/bpf', 'bpf'), detail: '/sys/fs/bpf', fix: 'mount -t bpf bpf /sys/fs/bpf' },
  ];
  try {
    // Calling into the addon proves the build and the libbpf it links.
    items.push({ what: 'native addon', ok: true, detail: `loaded, libbpf ${libbpfVersion()}, ${numPossibleCpus()} possible CPUs` });
  } catch (err) {
    items.push({ what: 'native addon', ok: false, detail: (err as Error).message, fix: 'bash scripts/setup.sh' });
  }
  return items;
}

export interface ReceiverCheck { id: string; items: CheckItem[]; ok: boolean }

export function receiverChecks(config: AgentConfig): ReceiverCheck[] {
  const used = new Set(config.pipelines.flatMap((p) => p.receivers));
  return [...used].map((id) => {
    const rc = config.receivers[id];
    const factory = receiverFactory(rc.type);
    if (!factory) return { id, items: [{ what: 'type', ok: false, detail: `unknown receiver type ${rc.type}` }], ok: false };
    const items = factory.check(rc.settings as never);
    // Hooks are alternatives (one usable suffices); optional items never decide; the rest are required.
    const hooks = items.filter((i) => i.what.startsWith('hook '));
    const ok = items.filter((i) => !i.what.startsWith('hook ') && !i.optional).every((i) => i.ok) && (hooks.length === 0 || hooks.some((i) => i.ok));
    return { id, items, ok };
  });
}

export function formatChecks(host: CheckItem[], receivers: ReceiverCheck[]): string {
  const line = (i: CheckItem) => `  ${i.ok ? 'ok  ' : i.optional ? 'off ' : 'FAIL'} ${i.what}: ${i.detail}${!i.ok && i.fix ? ` — fix: ${i.fix}` : ''}`;
  const out = ['host', ...host.map(line)];
  for (const r of receivers) out.push(`receiver ${r.id}: ${r.ok ? 'can run' : 'CANNOT run'}`, ...r.items.map(line));
  return out.join('\n');
}
