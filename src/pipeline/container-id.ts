// container.id from a cgroup path: docker, containerd (cri), CRI-O and podman all put the
// 64-hex container id in the last path component, with runtime-specific decoration.
const ID = /([0-9a-f]{64})/;
const RUNTIME_SCOPES = /(?:docker|cri-containerd|crio|libpod|containerd)-([0-9a-f]{64})\.scope$/;

export function containerIdFromCgroupPath(path: string): string | undefined {
  const last = path.split('/').filter(Boolean).pop() ?? '';
  const scoped = RUNTIME_SCOPES.exec(last);
  if (scoped) return scoped[1];
  // cgroupfs driver: /docker/<id>, /kubepods/burstable/pod<uid>/<id>, /system.slice/containerd/<id>
  if (/^[0-9a-f]{64}$/.test(last)) return last;
  const m = ID.exec(last);
  return m && !last.endsWith('.slice') ? m[1] : undefined;
}
