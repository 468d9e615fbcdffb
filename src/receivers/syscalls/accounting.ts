// Makes every kernel-counted failure appear in exactly one log record. The kernel's records
// cover ranges (from, to] of a key's running total; what rate limiting held back at the end of
// a burst is folded by user space once the key has gone quiet.
export interface KeyState {
  covered: number;      // failures accounted for by records already emitted (kernel or folded)
  kernelSeen: number;   // highest `to` received from the kernel
  lastTotal: number;    // kernel total at the previous sweep
  deadSweeps: number;   // consecutive sweeps the process was gone and fully covered
  refused: number;      // occurrences of records the export queue refused, reported again by a fold
}

export class FailureAccounting {
  private readonly keys = new Map<string, KeyState>();
  duplicates = 0;  // kernel records whose range a fold already covered

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) this.keys.set(key, (s = { covered: 0, kernelSeen: 0, lastTotal: 0, deadSweeps: 0, refused: 0 }));
    return s;
  }

  /** Occurrences a kernel record stands for; 0 means a fold already reported them. */
  onRecord(key: string, from: number, to: number): number {
    const s = this.state(key);
    s.kernelSeen = Math.max(s.kernelSeen, to);
    const occurrences = to - Math.max(from, s.covered);
    if (occurrences <= 0) {
      this.duplicates++;
      return 0;
    }
    s.covered = to;
    return occurrences;
  }

  /** A record standing for `occurrences` was refused downstream (export queue full). */
  refuse(key: string, occurrences: number): void {
    this.state(key).refused += occurrences;
  }

  /**
   * Failures to fold for a key, given the kernel's counter. Folds only when the key is quiet
   * (total unchanged since the last sweep) and no kernel record is still in flight, unless
   * `final` (the programs are detached and the ring drained).
   */
  sweep(key: string, total: number, kernelEmitted: number, final: boolean): number {
    const s = this.state(key);
    const quiet = total === s.lastTotal;
    s.lastTotal = total;
    if (total <= s.covered && s.refused === 0) return 0;
    if (!final && (!quiet || kernelEmitted > s.kernelSeen)) return 0;
    const fold = Math.max(0, total - s.covered) + s.refused;
    s.covered = Math.max(s.covered, total);
    s.refused = 0;
    return fold;
  }

  /** True once a key of an exited process has stayed fully reported for `sweeps` sweeps. */
  retire(key: string, alive: boolean, sweeps: number): boolean {
    const s = this.keys.get(key);
    if (!s) return true;
    if (alive || s.covered < s.lastTotal || s.refused > 0) {
      s.deadSweeps = 0;
      return false;
    }
    if (++s.deadSweeps < sweeps) return false;
    this.keys.delete(key);
    return true;
  }

  get size(): number { return this.keys.size; }
}
