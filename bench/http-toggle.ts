// http receiver overhead on nginx (1 KB file, loopback, wrk -t1 -c16), measured by switching the
// receiver's programs on and off in windows during one wrk run (bench/toggle.ts): the request rate of
// each "on" window against the "off" windows either side. The receiver runs in this process with its
// default settings, metrics only: the kernel capture, the ring reader and the per-record JavaScript
// (decode, templating, histograms) are all in it; the exporter (one metrics export per interval) is not.
//   node bench/http-toggle.ts [windows=31] [window_ms=1000]
//   KOTEL_BENCH_BARE=1: every program returning at once (bench/bare-hooks.ts): the floor;
//   KOTEL_BENCH_BARE=clock: every program reads the clock once and returns;
//   KOTEL_BENCH_BARE=discard: whole programs, their records discarded (the kernel side without the ring reader and JavaScript).
//   KOTEL_BENCH_NULL=1: nothing switched (an A/A run): how far from 1.000 the method itself reads.
//   KOTEL_BENCH_HTTP='{"client":false}': receiver settings (JSON).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BARE_LABEL, bareKindOf, buildBareHooks } from './bare-hooks.ts';
import { alternate, summary, toggleTargetOf } from './toggle.ts';
import { fmt, machine, backgroundLoad, table, median, sleep, inProcessContext } from './lib.ts';
import { MonotonicClock } from '../src/pipeline/clock.ts';
import { startNginx } from '../test/e2e/http-fixtures/helpers.ts';

const windows = Number(process.argv[2] ?? 31);
const windowMs = Number(process.argv[3] ?? 1000);
const bare = bareKindOf(process.env.KOTEL_BENCH_BARE);
const settings = JSON.parse(process.env.KOTEL_BENCH_HTTP ?? '{}') as Record<string, unknown>;
if (bare) process.env.KOTEL_BPF_DIR = buildBareHooks(bare);   // read when the loader is first imported
const { httpReceiver } = await import('../src/receivers/http/http.ts');

console.log(`# http overhead, programs switched on and off within one wrk run${bare ? ` — ${BARE_LABEL[bare]}` : ''}\n\n${machine()}\n${await backgroundLoad()}`);
console.log(`${windows} windows of ${windowMs} ms; nginx 1 KB file, wrk -t1 -c16; receiver settings ${JSON.stringify(settings)}`);
const nginx = await startNginx();
const url = `http://127.0.0.1:${nginx.port}/1k.txt`;
const clock = new MonotonicClock();
const receiver = httpReceiver.create(inProcessContext('http', { settings, clock }));
await receiver.start();
const targets = process.env.KOTEL_BENCH_NULL === '1' ? [] : [toggleTargetOf(receiver)];

const wrk = spawn('wrk', ['-t1', '-c16', `-d${Math.ceil((windows * windowMs) / 1000) + 10}s`, url], { stdio: 'ignore' });
const exited = new Promise((r) => wrk.once('exit', r));
await sleep(1500);
// Every access-log line of this workload has the same length: the log's size counts requests exactly.
const log = join(nginx.dir, 'access.log');
const lineBytes = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('/1k.txt'))!.length + 1;
const res = await alternate({
  targets, windows, windowMs, count: () => statSync(log).size / lineBytes,
  onWindowEnd: () => { receiver.collectMetrics?.(clock.now()); },
});
wrk.kill('SIGINT');
await exited;
const s = summary(res.ratios);
table(`requests/s with the programs ${bare ? `(${BARE_LABEL[bare]}) ` : ''}attached / detached, per "on" window against its two neighbours`,
  ['', 'req/s off (median)', 'req/s on (median)', 'ratio (median)', 'interquartile', 'range', 'on windows', 'exchanges recorded'],
  [['nginx 1 KB', fmt(median(res.off)), fmt(median(res.on)), fmt(s.median, 3), `${fmt(s.q1, 3)}–${fmt(s.q3, 3)}`,
    `${fmt(Math.min(...res.ratios), 3)}–${fmt(Math.max(...res.ratios), 3)}`, res.ratios.length, (receiver as unknown as { exchanges: number }).exchanges]]);
await receiver.shutdown();
await nginx.stop();
process.exit(0);
