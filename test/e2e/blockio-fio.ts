// fio and loop-device helpers for the blockio/iouring end-to-end tests and benchmarks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface FioResult {
  readIos: number; writeIos: number;
  readIops: number; writeIops: number;
  /** completion latency, ns */
  readClatMeanNs: number; writeClatMeanNs: number;
  raw: unknown;
}

interface FioJobSide { total_ios: number; iops: number; clat_ns?: { mean: number } }

export function fio(args: string[]): FioResult {
  const out = execFileSync('fio', ['--output-format=json', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const json = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ read: FioJobSide; write: FioJobSide }> };
  const sum = (f: (j: { read: FioJobSide; write: FioJobSide }) => number) => json.jobs.reduce((n, j) => n + f(j), 0);
  return {
    readIos: sum((j) => j.read.total_ios), writeIos: sum((j) => j.write.total_ios),
    readIops: sum((j) => j.read.iops), writeIops: sum((j) => j.write.iops),
    readClatMeanNs: json.jobs[0].read.clat_ns?.mean ?? 0, writeClatMeanNs: json.jobs[0].write.clat_ns?.mean ?? 0,
    raw: json,
  };
}

export interface LoopDevice { path: string; name: string; backing: string; detach(): void }

/** A loop device over a tmpfs file (/dev/shm), direct I/O, merges off so one fio I/O = one request. */
export function loopDevice(sizeMb = 64): LoopDevice {
  const dir = mkdtempSync('/dev/shm/kotel-blockio-');
  const backing = join(dir, 'disk.img');
  execFileSync('truncate', ['-s', `${sizeMb}M`, backing]);
  const path = execFileSync('losetup', ['--find', '--show', '--direct-io=on', backing], { encoding: 'utf8' }).trim();
  const name = basename(path);
  try { writeFileSync(`/sys/block/${name}/queue/nomerges`, '2'); } catch { /* older kernels */ }
  return {
    path, name, backing,
    detach() {
      try { execFileSync('losetup', ['-d', path]); } catch { /* gone */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** fio in its own process, with --thread so every job's I/O is that pid's (the io_uring resource);
 * `cgroupProcs`: a cgroup.procs file to enter first (the same process then execs fio). */
export async function fioProcess(args: string[], opts: { cgroupProcs?: string } = {}): Promise<{ pid: number; result: FioResult }> {
  const { spawn } = await import('node:child_process');
  const argv = ['--output-format=json', '--thread', ...args];
  const child = opts.cgroupProcs
    ? spawn('sh', ['-c', 'echo $$ > "$0" && exec fio "$@"', opts.cgroupProcs, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('fio', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`fio exited with ${code}: ${err}`);
  const json = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ read: { total_ios: number; iops: number; clat_ns?: { mean: number } }; write: { total_ios: number; iops: number; clat_ns?: { mean: number } } }> };
  const j = json.jobs[0];
  return {
    pid: child.pid!,
    result: {
      readIos: j.read.total_ios, writeIos: j.write.total_ios, readIops: j.read.iops, writeIops: j.write.iops,
      readClatMeanNs: j.read.clat_ns?.mean ?? 0, writeClatMeanNs: j.write.clat_ns?.mean ?? 0, raw: json,
    },
  };
}
