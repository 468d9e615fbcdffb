// Severity of a failed syscall by what its errno means for the workload.
import { SeverityNumber } from '@opentelemetry/api';
import type { Category } from './watchlist.ts';

const ERROR = new Set(['ENOSPC', 'EIO', 'ENOMEM', 'EMFILE', 'ENFILE', 'EDQUOT', 'EROFS']);
const WARN = new Set(['EACCES', 'EPERM', 'ECONNREFUSED', 'EADDRINUSE', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNRESET']);

export interface Severity { number: SeverityNumber; text: 'ERROR' | 'WARN' | 'INFO' }

export function severityOf(errnoName: string, category: Category): Severity {
  if (ERROR.has(errnoName)) return { number: SeverityNumber.ERROR, text: 'ERROR' };
  // EAGAIN is routine on sockets but means "process limit reached" on fork/clone.
  if (WARN.has(errnoName) || (errnoName === 'EAGAIN' && category === 'process')) return { number: SeverityNumber.WARN, text: 'WARN' };
  return { number: SeverityNumber.INFO, text: 'INFO' };
}
