// One error type for every configuration problem, carrying all of them at once so a user fixes
// the whole file in one round instead of one error per restart.

export interface ConfigIssue {
  /** YAML path of the bad key, e.g. `receivers.syscalls.rate_limit.records_per_second` ('' for the whole file). */
  path: string;
  /** What is wrong and what would be valid. */
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
  /** Set when the problem is in an environment variable rather than the file. */
  envVar?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(formatIssues(source, issues));
    this.source = source;
    this.issues = issues;
  }
}

export function formatIssue(source: string, issue: ConfigIssue): string {
  if (issue.envVar) return `environment variable ${issue.envVar}: ${issue.message}`;
  const where = issue.line !== undefined ? `${source}:${issue.line}:${issue.column ?? 1}` : source;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

function formatIssues(source: string, issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  const head = `invalid configuration ${source} (${n} error${n === 1 ? '' : 's'}):`;
  return [head, ...issues.map((i) => `  - ${formatIssue(source, i)}`)].join('\n');
}

/** The candidate nearest to `word` by edit distance, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Allow about one edit per three characters: "rate_limt" → "rate_limit", but not "foo" → "batch".
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** "; did you mean "x"? valid …: a, b" — the tail of an unknown-name message. */
export function suggestion(word: string, candidates: readonly string[], what: string): string {
  const near = closest(word, candidates);
  const list = candidates.length ? `valid ${what}: ${candidates.join(', ')}` : `no ${what} are defined`;
  return near ? `; did you mean "${near}"? ${list}` : `; ${list}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
