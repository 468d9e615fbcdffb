// errno numbers ↔ names ↔ descriptions (Linux, all architectures kotel supports).
import { ERRNO_ROWS } from './errno.generated.ts';

const byNumber = new Map<number, { name: string; text: string }>(ERRNO_ROWS.map(([n, name, text]) => [n, { name, text }]));
const byName = new Map<string, number>(ERRNO_ROWS.map(([n, name]) => [name, n]));
// Aliases the headers define as other names rather than numbers.
for (const [alias, target] of [['EWOULDBLOCK', 'EAGAIN'], ['EDEADLOCK', 'EDEADLK'], ['ENOTSUP', 'EOPNOTSUPP']] as const) {
  byName.set(alias, byName.get(target)!);
}

export const MAX_ERRNO = Math.max(...ERRNO_ROWS.map(([n]) => n));

export function errnoName(n: number): string {
  return byNumber.get(n)?.name ?? `E${n}`;
}

export function errnoText(n: number): string {
  return byNumber.get(n)?.text ?? `Unknown error ${n}`;
}

export function errnoNumber(name: string): number | undefined {
  return byName.get(name.toUpperCase());
}

export function allErrnoNames(): string[] {
  return [...byName.keys()];
}
