// The checks every BPF receiver reports in `kotel check`: each hook variant it could use (one
// usable suffices), and its compiled object.
import { existsSync } from 'node:fs';
import { objectPath, variantAvailable, type HookVariant } from '../bpf/loader.ts';
import type { CheckItem } from './receiver.ts';

export interface HookCheckOptions {
  variants: HookVariant[];
  /** The receiver's `hook` setting: 'auto' (or absent) checks every variant. */
  force?: string;
  /** What the hooks attach to, e.g. "raw_syscalls/sys_exit". */
  label: string;
  object: string;
  /** What to do when no variant can run. */
  fix: string;
  detail?: string;
}

export function hookChecks(o: HookCheckOptions): CheckItem[] {
  const candidates = !o.force || o.force === 'auto' ? o.variants : o.variants.filter((v) => v.kind === o.force);
  const items: CheckItem[] = candidates.map((v) => {
    const missing = variantAvailable(v);
    return { what: `hook ${v.kind} ${v.label ?? o.label}`, ok: !missing, detail: missing ?? 'available' };
  });
  const path = objectPath(o.object);
  items.push({ what: 'BPF object', ok: existsSync(path), detail: path, fix: 'bash scripts/setup.sh' });
  if (!items.some((i) => i.what.startsWith('hook ') && i.ok)) {
    items.push({ what: 'receiver', ok: false, detail: o.detail ?? 'no hook available', fix: o.fix });
  }
  return items;
}
