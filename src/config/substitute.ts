// Environment-variable substitution in scalar values, as the OpenTelemetry Collector does it:
// ${VAR}, ${env:VAR}, ${VAR:-default}, ${env:VAR:-default}; `$$` is a literal `$`.
// Any other `$` is left alone, so values such as regexes ("^foo$") need no escaping.

export type Env = Record<string, string | undefined>;

export class SubstitutionError extends Error {
  override name = 'SubstitutionError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expand references in `text`. An unset (or empty) variable takes its default; without a default it becomes "".
 * Empty counts as unset like the shell's `:-` and the OpenTelemetry spec's rule for empty variables.
 * Throws SubstitutionError for a malformed reference (unterminated, bad name, unsupported provider).
 */
export function substituteEnv(text: string, env: Env): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = text.indexOf('}', dollar + 2);
      if (close < 0) throw new SubstitutionError(`unterminated "\${" in "${text}"; write $$ for a literal $`);
      out += expandReference(text.slice(dollar + 2, close), env);
      i = close + 1;
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return out;
}

/** True when the whole text is one ${...} reference; the Collector then types the result like a YAML scalar. */
export function isWholeReference(text: string): boolean {
  return /^\$\{[^}]*\}$/.test(text);
}

function expandReference(inner: string, env: Env): string {
  let ref = inner;
  let fallback: string | undefined;
  const sep = ref.indexOf(':-');
  if (sep >= 0) {
    fallback = ref.slice(sep + 2);
    ref = ref.slice(0, sep);
  }
  const colon = ref.indexOf(':');
  if (colon >= 0) {
    const provider = ref.slice(0, colon);
    if (provider !== 'env') {
      throw new SubstitutionError(`unsupported reference "\${${inner}}": only environment variables (\${VAR} or \${env:VAR}) are supported`);
    }
    ref = ref.slice(colon + 1);
  }
  if (!NAME.test(ref)) {
    throw new SubstitutionError(`invalid environment variable name in "\${${inner}}"; names are letters, digits and _, not starting with a digit`);
  }
  const value = env[ref];
  if (value === undefined || value === '') return fallback ?? '';
  return value;
}
