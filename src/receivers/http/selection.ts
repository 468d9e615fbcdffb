// Which exchanges the http receiver follows (settings `server`, `client`, `ports`). The kernel tests
// them before reading anything; user space tests the ports again for the few records the kernel could
// not (a TLS connection whose socket was not yet known at its first request).

import { HttpRole } from './http.layout.ts';
import type { HttpExchange } from './decode.ts';

/** The kernel's `port_set`: bit p of byte p/8 for each server port p. */
export function portBitmap(ports: readonly number[]): Buffer {
  const bits = Buffer.alloc(65536 / 8);
  for (const p of ports) bits[p >> 3] |= 1 << (p & 7);
  return bits;
}

/** The server's port of an exchange: the local one when this host answered, the peer's when it asked. */
export function serverPort(ex: Pick<HttpExchange, 'role' | 'localPort' | 'peerPort'>): number {
  return ex.role === HttpRole.HTTP_ROLE_SERVER ? ex.localPort : ex.peerPort;
}

/** A test for exported records, or undefined when every port is followed. An unknown tuple never matches. */
export function portFilter(ports: readonly number[]): ((ex: Pick<HttpExchange, 'role' | 'localPort' | 'peerPort' | 'family'>) => boolean) | undefined {
  if (!ports.length) return undefined;
  const wanted = new Set(ports);
  return (ex) => ex.family !== 0 && wanted.has(serverPort(ex));
}

/** What the receiver follows, for its start-up line; undefined for everything (the default). */
export function describeSelection(s: { server: boolean; client: boolean; ports: readonly number[] }): string | undefined {
  if (s.server && s.client && !s.ports.length) return undefined;
  const side = s.server && s.client ? 'server and client exchanges' : s.server ? 'server exchanges only (client: false)' : 'client requests only (server: false)';
  return s.ports.length ? `${side} on server port${s.ports.length > 1 ? 's' : ''} ${s.ports.join(', ')}` : side;
}
