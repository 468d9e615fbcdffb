// Block device names from the kernel's dev_t (MAJOR << 20 | MINOR): /sys/dev/block/M:m/uevent DEVNAME.
import { readFileSync, readdirSync, statSync } from 'node:fs';
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

/** cgroup v2 id (the inode of its directory) → path below the mount, found by a bounded walk. */
export class CgroupPaths {
  private readonly paths = new Map<bigint, string>();
  private readonly root: string;
  private lastWalk = 0;
  constructor(root = '/sys/fs/cgroup') { this.root = root; }

  path(id: bigint): string | undefined {
    if (!this.paths.has(id) && Date.now() - this.lastWalk > 5000) this.walk();
    return this.paths.get(id);
  }

  private walk(): void {
    this.lastWalk = Date.now();
    let budget = 20_000;
    const visit = (dir: string, rel: string, depth: number) => {
      if (budget-- <= 0) return;
      try {
        this.paths.set(statSync(dir, { bigint: true }).ino, rel || '/');
        if (depth >= 8) return;
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) visit(join(dir, e.name), `${rel}/${e.name}`, depth + 1);
      } catch { /* raced with removal */ }
    };
    visit(this.root, '', 0);
  }
}
