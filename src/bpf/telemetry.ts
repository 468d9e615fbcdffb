// Self-telemetry sources shared by every receiver: ring-buffer delivery, the kernel-side
// `stats` counters, and BPF program run time.
import type { BpfMap, BpfObject, RingReader } from '../../native/index.ts';
import { ATTR_KOTEL_PROGRAM, ATTR_KOTEL_REASON, ATTR_KOTEL_RECEIVER } from '../semconv/attributes.ts';
import type { Observe } from '../pipeline/self-telemetry.ts';
import { readStats } from './loader.ts';

export function ringStatsSource(receiver: string, ring: RingReader, decodeErrors: () => number) {
  return (observe: Observe) => {
    const s = ring.stats();
    observe('kotel.receiver.records', { [ATTR_KOTEL_RECEIVER]: receiver }, s.records);
    observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: receiver, [ATTR_KOTEL_REASON]: 'consumer_queue_full' }, s.droppedRecords);
    observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: receiver, [ATTR_KOTEL_REASON]: 'decode_error' }, decodeErrors());
  };
}

export function kernelStatsSource(receiver: string, stats: BpfMap) {
  let last = { KOTEL_STAT_RINGBUF_FULL: 0, KOTEL_STAT_MAP_FULL: 0 };
  return (observe: Observe) => {
    try {
      last = readStats(stats);
    } catch { /* object closed at shutdown: report the last reading */ }
    observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: receiver, [ATTR_KOTEL_REASON]: 'ringbuf_full' }, last.KOTEL_STAT_RINGBUF_FULL);
    observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: receiver, [ATTR_KOTEL_REASON]: 'map_full' }, last.KOTEL_STAT_MAP_FULL);
  };
}

/**
 * Per program: run time and runs (only while the kernel's statistics are on), and the runs the
 * kernel skipped because the program was already running on that CPU (an interrupt hit the same
 * hook while it ran): each is an event lost, counted by the kernel whether statistics are on or not.
 */
export function programStatsSource(receiver: string, object: Pick<BpfObject, 'programStats'>, programs: string[]) {
  let last: Array<{ name: string; runTimeNs: number; runCount: number; recursionMisses: number }> = [];
  return (observe: Observe) => {
    try {
      last = object.programStats().filter((p) => programs.includes(p.name))
        .map((p) => ({ name: p.name, runTimeNs: Number(p.runTimeNs), runCount: Number(p.runCount), recursionMisses: Number(p.recursionMisses) }));
    } catch { /* closed */ }
    for (const p of last) {
      observe('kotel.receiver.dropped', { [ATTR_KOTEL_RECEIVER]: receiver, [ATTR_KOTEL_REASON]: 'program_recursion', [ATTR_KOTEL_PROGRAM]: p.name }, p.recursionMisses);
      // Zero runs: the kernel's statistics are off (service.telemetry.metrics.bpf_run_time).
      if (p.runCount === 0) continue;
      observe('kotel.bpf.program.run_time', { [ATTR_KOTEL_PROGRAM]: p.name }, p.runTimeNs / 1e9);
      observe('kotel.bpf.program.runs', { [ATTR_KOTEL_PROGRAM]: p.name }, p.runCount);
    }
  };
}
