// Low-cardinality routes: configured templates first, otherwise segments that look like
// identifiers (numbers, UUIDs, hex hashes, long mixed tokens) become placeholders.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{12,}$/i;
const NUMBER = /^-?\d+(\.\d+)?$/;
const MIXED_TOKEN = /^(?=.*\d)[A-Za-z0-9_\-.~=]{16,}$/;

interface Compiled { template: string; parts: Array<string | null> }

export class PathTemplater {
  private readonly routes: Compiled[];
  private readonly cache = new Map<string, string>();
  private readonly maxCache: number;

  constructor(routes: string[] = [], maxCache = 4096) {
    this.routes = routes.map((template) => ({
      template,
      parts: template.split('/').map((seg) => (/^\{[^}]*\}$/.test(seg) || seg === '*' ? null : seg)),
    }));
    this.maxCache = maxCache;
  }

  /** The configured route that matches the path, if any (exported as http.route). */
  route(path: string): string | undefined {
    if (!this.routes.length) return undefined;
    const segs = path.split('/');
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      if (r.parts.every((p, i) => p === null || p === segs[i])) return r.template;
    }
    return undefined;
  }

  /** The route, or the automatic template of the path. */
  template(path: string): string {
    let t = this.cache.get(path);
    if (t !== undefined) return t;
    t = this.route(path) ?? autoTemplate(path);
    if (this.cache.size >= this.maxCache) this.cache.clear();
    this.cache.set(path, t);
    return t;
  }
}

export function placeholderFor(seg: string): string | undefined {
  if (!seg) return undefined;
  if (NUMBER.test(seg)) return '{id}';
  if (UUID.test(seg)) return '{uuid}';
  if (HEX.test(seg)) return '{hash}';
  if (MIXED_TOKEN.test(seg)) return '{token}';
  return undefined;
}

export function autoTemplate(path: string): string {
  if (path === '/' || path === '') return '/';
  return path.split('/').map((seg) => placeholderFor(seg) ?? seg).join('/');
}
