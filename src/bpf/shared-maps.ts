// Maps several receivers' BPF objects declare under one name and must share (e.g. `thread_ctx`:
// the request each thread serves, written by http, read by syscalls). The first object to load
// creates the kernel map; every later one reuses its fd. The registry owns the fd for the
// agent's lifetime, so the map outlives any one receiver's stop or failed load.
import { closeSync } from 'node:fs';
import type { BpfObject } from '../../native/index.ts';

const shared = new Map<string, number>();

/** Before load(): points `obj`'s maps named in `names` at the shared kernel maps. */
export function useSharedMaps(obj: BpfObject, names: readonly string[]): void {
  for (const name of names) {
    const map = obj.map(name);
    let fd = shared.get(name);
    if (fd === undefined) {
      fd = map.createStandalone();
      shared.set(name, fd);
    }
    map.reuseFd(fd);
  }
}

/** Closes the registry's fds (objects still using a map keep it alive through their own). */
export function releaseSharedMaps(): void {
  for (const fd of shared.values()) closeSync(fd);
  shared.clear();
}

/** The per-thread request context (bpf/include/kotel_thread_ctx.h). */
export const THREAD_CTX_MAP = 'thread_ctx';
