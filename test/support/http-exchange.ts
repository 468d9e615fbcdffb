// A decoded HTTP exchange with plausible defaults, for tests of the mapping and the serializers.
import type { HttpExchange } from '../../src/receivers/http/decode.ts';
import { HttpRole } from '../../src/receivers/http/http.layout.ts';

export function httpExchange(over: Partial<HttpExchange> = {}): HttpExchange {
  return {
    startNs: 1_000_000n, endNs: 3_000_000n, reqBytes: 80, respBytes: 120, traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7', parentId: '', tgid: 10, tid: 11, family: 2, localAddress: '127.0.0.1', localPort: 8080,
    peerAddress: '127.0.0.1', peerPort: 50000, status: 200,
    reqHead: 'GET /users/7?secret=1 HTTP/1.1\r\nHost: api.local:8080\r\nUser-Agent: t/1\r\n\r\n', respHead: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n',
    reqHdrEnd: 80, respHdrEnd: 38, role: HttpRole.HTTP_ROLE_SERVER, flags: 0, comm: 'node', ...over,
  };
}
