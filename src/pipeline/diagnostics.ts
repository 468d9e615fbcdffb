// kotel's own operational messages on stderr (stdout stays for the console exporter).
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class Diagnostics {
  private readonly min: number;
  constructor(level: Level = 'info') {
    this.min = ORDER[level];
  }
  debug(msg: string): void { this.write('debug', msg); }
  info(msg: string): void { this.write('info', msg); }
  warn(msg: string): void { this.write('warn', msg); }
  error(msg: string): void { this.write('error', msg); }
  private write(level: Level, msg: string): void {
    if (ORDER[level] >= this.min) process.stderr.write(`kotel ${level}: ${msg}\n`);
  }
}
