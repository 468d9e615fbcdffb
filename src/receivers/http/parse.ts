// Parsers of the captured HTTP/1.x heads. They run once per exchange on at most 256 bytes,
// with indexOf scans (no regular expressions on the hot path).

export interface RequestHead {
  method: string;
  /** request-target as sent (origin form "/p?q", or absolute form for proxies) */
  target: string;
  path: string;
  query: string | undefined;
  version: string;          // "1.1"
  host: string | undefined;
  userAgent: string | undefined;
}

export interface ResponseHead {
  version: string;
  status: number;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export function isKnownMethod(m: string): boolean {
  return KNOWN_METHODS.has(m);
}

/** Value of a header in a head (case-insensitive name), or undefined. Only the captured part is searched. */
export function headerValue(head: string, name: string): string | undefined {
  // Line by line, comparing the name in place (no lower-cased copy of the head).
  const lname = name.toLowerCase();
  const n = lname.length;
  for (let nl = head.indexOf('\n'); nl >= 0; nl = head.indexOf('\n', nl + 1)) {
    const at = nl + 1;
    if (head.charCodeAt(at + n) !== 58 /* : */ || !sameName(head, at, lname)) continue;
    const start = at + n + 1;
    let end = head.indexOf('\r', start);
    if (end < 0) end = head.indexOf('\n', start);
    if (end < 0) return undefined;   // truncated: the value may be cut
    return head.slice(start, end).trim();
  }
  return undefined;
}

/** head[at…] equals the lower-case ASCII name, ignoring case. */
function sameName(head: string, at: number, lname: string): boolean {
  for (let i = 0; i < lname.length; i++) {
    let c = head.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lname.charCodeAt(i)) return false;
  }
  return true;
}

/** `withUserAgent` false: skip looking for User-Agent (userAgent is then undefined). */
export function parseRequestHead(head: string, withUserAgent = true): RequestHead | undefined {
  const sp1 = head.indexOf(' ');
  if (sp1 <= 0 || sp1 > 16) return undefined;
  const method = head.slice(0, sp1);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;   // request line cut by the capture size
  const sp2 = head.lastIndexOf(' ', lineEnd);
  let target: string, version = '1.1';
  if (sp2 > sp1 && head.startsWith('HTTP/', sp2 + 1)) {
    target = head.slice(sp1 + 1, sp2);
    version = head.slice(sp2 + 6, lineEnd);
  } else {
    // request line cut (capture size or a split write): the target ends at the next space
    const sp = head.indexOf(' ', sp1 + 1);
    target = head.slice(sp1 + 1, sp > 0 && sp < lineEnd ? sp : lineEnd);
  }
  let pathPart = target;
  if (!target.startsWith('/')) {
    // absolute form: http://host/path
    const scheme = target.indexOf('://');
    if (scheme > 0) {
      const slash = target.indexOf('/', scheme + 3);
      pathPart = slash < 0 ? '/' : target.slice(slash);
    }
  }
  const q = pathPart.indexOf('?');
  const hash = pathPart.indexOf('#');
  const pathEnd = q >= 0 ? q : hash >= 0 ? hash : pathPart.length;
  return {
    method,
    target,
    path: pathPart.slice(0, pathEnd),
    query: q >= 0 ? pathPart.slice(q + 1, hash > q ? hash : undefined) : undefined,
    version,
    host: lineEnd < head.length ? headerValue(head, 'host') : undefined,
    userAgent: withUserAgent && lineEnd < head.length ? headerValue(head, 'user-agent') : undefined,
  };
}

export function parseResponseHead(head: string): ResponseHead | undefined {
  if (!head.startsWith('HTTP/') || head.length < 12) return undefined;
  const sp = head.indexOf(' ');
  const status = Number(head.slice(sp + 1, sp + 4));
  if (!Number.isInteger(status) || status < 100 || status > 999) return undefined;
  return { version: head.slice(5, sp), status };
}

export interface TraceParent { traceId: string; spanId: string; flags: number }

/** W3C traceparent (version 00): "00-<32 hex>-<16 hex>-<2 hex>"; all-zero ids are invalid. */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (!value) return undefined;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/.exec(value.trim().toLowerCase());
  if (!m || m[1] === 'ff') return undefined;
  if (/^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], flags: parseInt(m[4], 16) };
}

/** Server/host from a Host header value: "example.com:8080" → ["example.com", 8080]; "[::1]:80" too. */
export function splitHost(value: string): { host: string; port: number | undefined } {
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    const port = value.slice(end + 2);
    return { host: value.slice(1, end), port: port ? Number(port) : undefined };
  }
  const colon = value.lastIndexOf(':');
  if (colon > 0 && value.indexOf(':') === colon) return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) || undefined };
  return { host: value, port: undefined };
}
