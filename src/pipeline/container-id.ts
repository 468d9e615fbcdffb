// Identity derived from a cgroup path alone: container.id for docker, containerd (cri), CRI-O and
// podman (systemd and cgroupfs drivers), and for kubepods paths the pod uid and its QoS class.
const ID = /([0-9a-f]{64})/;
const RUNTIME_SCOPES = /(?:(docker|cri-containerd|crio|libpod|containerd)-)([0-9a-f]{64})\.scope$/;
const RUNTIME_NAMES: Record<string, string> = { docker: 'docker', 'cri-containerd': 'containerd', containerd: 'containerd', crio: 'cri-o', libpod: 'podman' };

export function containerIdFromCgroupPath(path: string): string | undefined {
  return cgroupIdentity(path).containerId;
}

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

export interface CgroupIdentity {
  containerId?: string;
  /** docker, containerd, cri-o, podman when the path says so */
  runtime?: string;
  podUid?: string;
  qosClass?: QosClass;
}

// cgroupfs: /kubepods/burstable/pod<uid>/…, /kubepods/pod<uid>/… (Guaranteed)
// systemd:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/…
const POD_SEGMENT = /^(?:kubepods-(?:besteffort-|burstable-)?)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/i;

export function cgroupIdentity(path: string): CgroupIdentity {
  const out: CgroupIdentity = {};
  const parts = path.split('/').filter(Boolean);
  const last = parts[parts.length - 1] ?? '';
  const scoped = RUNTIME_SCOPES.exec(last);
  if (scoped) {
    out.containerId = scoped[2];
    out.runtime = RUNTIME_NAMES[scoped[1]];
  } else if (/^[0-9a-f]{64}$/.test(last)) {
    // cgroupfs driver: /docker/<id>, /kubepods/burstable/pod<uid>/<id>, /system.slice/containerd/<id>, /machine.slice/libpod-…
    out.containerId = last;
    const parent = parts[parts.length - 2] ?? '';
    if (parent === 'docker') out.runtime = 'docker';
    else if (parent === 'containerd') out.runtime = 'containerd';
  } else {
    const m = ID.exec(last);
    if (m && !last.endsWith('.slice')) out.containerId = m[1];
  }
  const kube = parts.findIndex((p) => p === 'kubepods' || p === 'kubepods.slice');
  if (kube >= 0) {
    for (let i = kube + 1; i < parts.length; i++) {
      const pod = POD_SEGMENT.exec(parts[i]);
      if (!pod) continue;
      out.podUid = pod[1].replace(/_/g, '-').toLowerCase();
      const qos = parts.slice(kube + 1, i + 1).join('/');
      out.qosClass = /(?:^|[/-])burstable(?:[/.-]|$)/.test(qos) ? 'Burstable' : /(?:^|[/-])besteffort(?:[/.-]|$)/.test(qos) ? 'BestEffort' : 'Guaranteed';
      break;
    }
  }
  return out;
}
