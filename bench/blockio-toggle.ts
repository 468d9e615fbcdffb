// blockio + iouring overhead on fio 4k random reads, measured by switching the receivers' programs on
// and off in windows during one fio run (bench/toggle.ts): the IOPS of each "on" window against the
// "off" windows either side. The receivers run in this process with their default settings and collect
// their maps at the end of each "on" window (the agent does that once per export interval); the agent's
// exporter is not part of it (~0.7 % of one core at one export per second, see bench/blockio.ts).
//   node bench/blockio-toggle.ts [windows=31] [window_ms=1000] [engines=io_uring,libaio,psync]
//   KOTEL_BENCH_BARE=1: the same with every program returning at once (bench/bare-hooks.ts): the floor;
//   KOTEL_BENCH_BARE=clock: every program reads the clock once and returns (the least a timing program does);
//   KOTEL_BENCH_BARE=discard: whole programs, their ring-buffer records discarded (the kernel side alone).
//   KOTEL_BENCH_NULL=1: nothing switched (an A/A run): how far from 1.000 the method itself reads.
//   KOTEL_BENCH_RECEIVERS=iouring: load (and switch) only these receivers (default blockio,iouring).
//   KOTEL_BENCH_TARGET=disk: a file on the root filesystem's disk (virtio here) instead of the loop device
//   over tmpfs (the fastest device, so the worst case for per-I/O overhead).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { BARE_LABEL, bareKindOf, buildBareHooks } from './bare-hooks.ts';
import { alternate, summary, toggleTargetOf } from './toggle.ts';
import { fmt, machine, backgroundLoad, table, median, inProcessContext } from './lib.ts';
import { MonotonicClock } from '../src/pipeline/clock.ts';
import { loopDevice } from '../test/e2e/blockio-fio.ts';

const windows = Number(process.argv[2] ?? 31);
const windowMs = Number(process.argv[3] ?? 1000);
const engines = (process.argv[4] ?? 'io_uring,libaio,psync').split(',');
const bare = bareKindOf(process.env.KOTEL_BENCH_BARE);
const chosen = (process.env.KOTEL_BENCH_RECEIVERS ?? 'blockio,iouring').split(',');
// The objects directory is read when the loader is first imported: choose it before that.
if (bare) process.env.KOTEL_BPF_DIR = buildBareHooks(bare);
const { blockioReceiver } = await import('../src/receivers/blockio/blockio.ts');
const { iouringReceiver } = await import('../src/receivers/iouring/iouring.ts');

const ENGINE_ARGS: Record<string, string[]> = {
  psync: ['--ioengine=psync'], io_uring: ['--ioengine=io_uring', '--iodepth=16'], libaio: ['--ioengine=libaio', '--iodepth=16'],
};

console.log(`# blockio / iouring overhead, programs switched on and off within one fio run${bare ? ` — ${BARE_LABEL[bare]}` : ''}\n\n${machine()}\n${await backgroundLoad()}`);
const onDisk = process.env.KOTEL_BENCH_TARGET === 'disk';
const DISK_FILE = '/var/tmp/kotel-blockio-toggle.img';
console.log(`receivers ${chosen.join(', ')}; ${windows} windows of ${windowMs} ms, 4k randread, direct I/O, ${onDisk ? 'a file on the root filesystem (virtio disk)' : 'loop device over a tmpfs file (merges off)'}`);
// The device whose completed reads count the workload (the disk also serves others' reads: a few per second).
const target = onDisk
  ? { path: DISK_FILE, name: basename(execFileSync('findmnt', ['-no', 'SOURCE', '/'], { encoding: 'utf8' }).trim()), detach: () => rmSync(DISK_FILE, { force: true }) }
  : loopDevice(512);
execFileSync('dd', ['if=/dev/zero', `of=${target.path}`, 'bs=1M', 'count=256', 'oflag=direct', 'status=none']);
const clock = new MonotonicClock();
const receivers = [blockioReceiver, iouringReceiver].filter((f) => chosen.includes(f.type))
  .map((f) => (f as typeof blockioReceiver).create(inProcessContext(f.type, { clock })));
for (const r of receivers) await r.start();
const targets = process.env.KOTEL_BENCH_NULL === '1' ? [] : receivers.map(toggleTargetOf);
/** Reads the device completed (its block stat file, first field). */
const readsCompleted = () => Number(readFileSync(`/sys/class/block/${target.name}/stat`, 'utf8').trim().split(/\s+/)[0]);

const rows: Array<Array<string | number>> = [];
for (const engine of engines) {
  const fio = spawn('fio', ['--name=toggle', `--filename=${target.path}`, ...ENGINE_ARGS[engine], '--direct=1', '--rw=randread', '--bs=4k',
    '--size=256M', '--time_based', `--runtime=${Math.ceil((windows * windowMs) / 1000) + 10}`, '--norandommap', '--randrepeat=0'], { stdio: 'ignore' });
  const exited = new Promise((r) => fio.once('exit', r));
  await new Promise((r) => setTimeout(r, 1500));   // fio started and at its steady rate
  const res = await alternate({
    targets, windows, windowMs, count: readsCompleted,
    onWindowEnd: () => { for (const r of receivers) r.collectMetrics?.(clock.now()); },
  });
  fio.kill('SIGINT');
  await exited;
  const s = summary(res.ratios);
  rows.push([engine, fmt(median(res.off)), fmt(median(res.on)), fmt(s.median, 3), `${fmt(s.q1, 3)}–${fmt(s.q3, 3)}`,
    `${fmt(Math.min(...res.ratios), 3)}–${fmt(Math.max(...res.ratios), 3)}`, res.ratios.length]);
}
table(`IOPS with the programs ${bare ? `(${BARE_LABEL[bare]}) ` : ''}attached / detached, per "on" window against its two neighbours`,
  ['engine', 'IOPS off (median)', 'IOPS on (median)', 'ratio (median)', 'interquartile', 'range', 'on windows'], rows);
for (const r of receivers) await r.shutdown();
target.detach();
process.exit(0);
