// Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on unified hosts,
// /sys/fs/cgroup/unified on hybrid ones (v1 controllers beside a v2 tree).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function cgroup2Root(mounts = readFileSync('/proc/mounts', 'utf8')): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2') return mountPoint;
  }
  return undefined;
}

/** The kernel's cgroup id for a v2 path (its directory's inode number), as bpf_get_current_cgroup_id() reports it. */
export function cgroupIdOf(path: string, root = cgroup2Root()): bigint {
  if (!root) throw new Error('no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)');
  return statSync(join(root, path), { bigint: true }).ino;
}
