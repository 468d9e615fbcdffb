// Decodes process_exec_event / process_exit_event records (layouts generated from the BPF object's BTF).
import { KotelEventHeader } from '../../bpf/kotel-event.layout.ts';
import { readCString } from '../../bpf/records.ts';
import { ProcessExecEvent, ProcessExitEvent } from './process.layout.ts';

export interface ExecRecord { tsNs: bigint; tgid: number; ppid: number; uid: number; oldPid: number; cgroupId: bigint; startNs: bigint; comm: string; filename: string }
export interface ExitRecord { tsNs: bigint; tgid: number; ppid: number; exitCode: number; cgroupId: bigint; startNs: bigint; comm: string }

const TS = KotelEventHeader.fields.ts_ns.offset;

export function decodeExec(buf: Buffer, o: number, view: DataView): ExecRecord {
  const F = ProcessExecEvent.fields;
  return {
    tsNs: view.getBigUint64(o + TS, true),
    tgid: view.getUint32(o + F.tgid.offset, true),
    ppid: view.getUint32(o + F.ppid.offset, true),
    uid: view.getUint32(o + F.uid.offset, true),
    oldPid: view.getUint32(o + F.old_pid.offset, true),
    cgroupId: view.getBigUint64(o + F.cgroup_id.offset, true),
    startNs: view.getBigUint64(o + F.start_ns.offset, true),
    comm: readCString(buf, o + F.comm.offset, F.comm.size),
    filename: readCString(buf, o + F.filename.offset, F.filename.size),
  };
}

export function decodeExit(buf: Buffer, o: number, view: DataView): ExitRecord {
  const F = ProcessExitEvent.fields;
  return {
    tsNs: view.getBigUint64(o + TS, true),
    tgid: view.getUint32(o + F.tgid.offset, true),
    ppid: view.getUint32(o + F.ppid.offset, true),
    exitCode: view.getUint32(o + F.exit_code.offset, true),
    cgroupId: view.getBigUint64(o + F.cgroup_id.offset, true),
    startNs: view.getBigUint64(o + F.start_ns.offset, true),
    comm: readCString(buf, o + F.comm.offset, F.comm.size),
  };
}

const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2',
  'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ',
  'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

export function signalName(n: number): string {
  return SIGNALS[n] || `SIG${n}`;
}

export type ExitKind = 'normal' | 'error' | 'signal';

/** The kernel's wait status: (status << 8) | signal, 0x80 = core dumped. */
export function exitStatus(code: number): { kind: ExitKind; status: number; signal: number; coreDumped: boolean } {
  const signal = code & 0x7f, status = (code >> 8) & 0xff;
  return { kind: signal ? 'signal' : status ? 'error' : 'normal', status, signal, coreDumped: (code & 0x80) !== 0 };
}
