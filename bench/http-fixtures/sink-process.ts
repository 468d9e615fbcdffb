// Starts one of the OTLP sinks (otlp-count-sink.ts by default) in its own process, as a collector
// would run, and asks it for its span counts.
import { spawn, type ChildProcess } from 'node:child_process';

export interface SinkProcess {
  endpoint: string;
  /** OTLP/HTTP base URL (the count sink and the Collector take both). */
  httpEndpoint?: string;
  child: ChildProcess;
  /** Spans received in total, and by "process.executable.name kind" (count sink only). */
  counts(): Promise<{ total: number; byKey: Record<string, number> }>;
  stop(): void;
}

export async function startSink(script = './otlp-count-sink.ts'): Promise<SinkProcess> {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  while (!/endpoint (\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`sink ${script} exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const endpoint = /endpoint (\S+)/.exec(out)![1];
  return {
    endpoint,
    httpEndpoint: /^http (\S+)/m.exec(out)?.[1],
    child,
    async counts() {
      const before = out.length;
      child.stdin!.write('?\n');
      const rx = /spans (\d+)( \{[^\n]*\})?\n/;
      while (!rx.test(out.slice(before))) await new Promise((r) => setTimeout(r, 5));
      const m = rx.exec(out.slice(before))!;
      return { total: Number(m[1]), byKey: m[2] ? JSON.parse(m[2]) as Record<string, number> : {} };
    },
    stop() { child.stdin!.end(); },
  };
}
