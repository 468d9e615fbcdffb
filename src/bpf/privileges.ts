// Whether this process may load BPF: CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN (root).
import { readFileSync } from 'node:fs';

const CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39;

export const PRIVILEGE_FIX = 'run as root, or grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE';

export function effectiveCapabilities(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  return BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
}

export function hasBpfPrivileges(caps = effectiveCapabilities()): boolean {
  const has = (bit: number) => ((caps >> BigInt(bit)) & 1n) === 1n;
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}
