// Per-program BPF cost of the blockio + iouring receivers under fio 4k random reads: runs per I/O
// and ns per run from the kernel's run-time statistics (which add ~60 ns per run themselves).
// In-process receivers, so the figures isolate the kernel side.
//   node bench/blockio-hooks.ts [seconds=4] [engines=io_uring,libaio]
import { execFileSync } from 'node:child_process';
import { fio, loopDevice } from '../test/e2e/blockio-fio.ts';
import { blockioReceiver } from '../src/receivers/blockio/blockio.ts';
import { iouringReceiver } from '../src/receivers/iouring/iouring.ts';
import { bpfProgsOf, fmt, inProcessContext, table } from './lib.ts';

const seconds = Number(process.argv[2] ?? 4);
const engines = (process.argv[3] ?? 'io_uring,libaio').split(',');
const ENGINE_ARGS: Record<string, string[]> = {
  psync: ['--ioengine=psync'], io_uring: ['--ioengine=io_uring', '--iodepth=16'], libaio: ['--ioengine=libaio', '--iodepth=16'],
};

const loop = loopDevice(512);
execFileSync('dd', ['if=/dev/zero', `of=${loop.path}`, 'bs=1M', 'count=256', 'oflag=direct', 'status=none']);
const receivers = [blockioReceiver, iouringReceiver].map((f) => (f as typeof blockioReceiver).create(inProcessContext(f.type, { bpfRunTimeStats: true })));
for (const r of receivers) await r.start();
for (const engine of engines) {
  const before = new Map(bpfProgsOf(process.pid).map((p) => [p.id, p]));
  const res = fio(['--name=hooks', `--filename=${loop.path}`, ...ENGINE_ARGS[engine], '--direct=1', '--rw=randread', '--bs=4k',
    '--size=256M', '--time_based', `--runtime=${seconds}`, '--norandommap', '--randrepeat=0']);
  const ios = res.readIos;
  const rows: Array<Array<string | number>> = [];
  let total = 0;
  for (const p of bpfProgsOf(process.pid)) {
    const b = before.get(p.id);
    const runs = (p.run_cnt ?? 0) - (b?.run_cnt ?? 0), ns = (p.run_time_ns ?? 0) - (b?.run_time_ns ?? 0);
    if (!runs) continue;
    total += ns;
    rows.push([p.name, (runs / ios).toFixed(2), fmt(ns / runs), fmt(ns / ios)]);
  }
  rows.push(['total', '', '', fmt(total / ios)]);
  table(`${engine}: ${fmt(res.readIops)} IOPS, ${ios} I/Os`, ['program', 'runs/IO', 'ns/run', 'ns/IO'], rows);
}
for (const r of receivers) await r.shutdown();
loop.detach();
