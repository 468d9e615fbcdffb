// Block device names from the kernel's dev_t (MAJOR << 20 | MINOR): /sys/dev/block/M:m/uevent DEVNAME.
import { readFileSync } from 'node:fs';
import { cgroup2Root, cgroupV1Mounts } from '../../pipeline/cgroups.ts';
import { join } from 'node:path';

export function devMajor(dev: number): number { return dev >>> 20; }
export function devMinor(dev: number): number { return dev & 0xfffff; }

export class DeviceNames {
  private readonly names = new Map<number, string>();
  private readonly sysRoot: string;
  constructor(sysRoot = '/sys') { this.sysRoot = sysRoot; }

  name(dev: number): string {
    let n = this.names.get(dev);
    if (n === undefined) {
      n = this.read(dev);
      // A device that is not there yet (or any more) is read again next time.
      if (!n.includes(':')) this.names.set(dev, n);
    }
    return n;
  }

  private read(dev: number): string {
    const mm = `${devMajor(dev)}:${devMinor(dev)}`;
    try {
      const uevent = readFileSync(join(this.sysRoot, 'dev/block', mm, 'uevent'), 'utf8');
      const name = /^DEVNAME=(.+)$/m.exec(uevent)?.[1];
      if (name) return name;
    } catch { /* gone */ }
    return mm;
  }
}

/** The hierarchy whose cgroup ids block I/O carries (bio->bi_blkg->blkcg): the v1 blkio hierarchy
 * where blkio is mounted as v1 (hybrid hosts), else the unified (cgroup2) one. */
export function blkcgRoot(v1 = cgroupV1Mounts(), v2 = cgroup2Root()): string | undefined {
  return v1.get('blkio') ?? v2;
}
