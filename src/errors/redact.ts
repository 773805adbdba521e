// Secrets (passwords in connection URLs, REDIS_PASSWORD, TEMPORAL_API_KEY) never reach a
// message, a log line or the terminal. Configuration registers the secret values it resolves, so
// that they are masked wherever they turn up, also inside text no pattern would recognise (an
// unparseable URL, a driver's error message); connection URLs are masked by their shape too.

const MASK = '***';
/** Shorter values would mask ordinary words; their URLs are still masked by shape. */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();

/** Remembers a secret value (and its URL-encoded form) so that {@link redactText} masks it everywhere. */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
}

/**
 * A connection URL or address with its password replaced by `***`. Works on text that does not
 * parse as a URL too (a malformed REDIS_URL or TEMPORAL_ADDRESS): whatever stands between the
 * user name and the last `@` is masked; an address without a scheme keeps only what follows `@`.
 */
export function redactUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (scheme) {
    const [, prefix, rest] = scheme as unknown as [string, string, string];
    const at = rest.lastIndexOf('@');
    if (at < 0) return redactText(url);
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    const masked = colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:${MASK}`;
    return redactKnown(`${prefix}${masked}${rest.slice(at)}`);
  }
  const at = url.lastIndexOf('@');
  return redactKnown(at < 0 ? url : `${MASK}${url.slice(at)}`);
}

/** Free text (an error message, a stack, a log line) with credentials in URLs, bearer tokens and registered secrets masked. */
export function redactText(text: string): string {
  const masked = text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, `$1${MASK}@`)
    .replace(/\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, `$1${MASK}`);
  return redactKnown(masked);
}

function redactKnown(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY = /^(password|passwd|apiKey|api_key|token|accessToken|secret|authorization)$/i;

/**
 * A copy of a value safe to log: secret-named keys masked, strings redacted, errors serialised
 * (type, message, stack, code, cause) without the command and arguments ioredis attaches to a
 * failed reply (a failed AUTH carries the password there).
 */
export function sanitizeForLog(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[...]';
  // `seen` holds the ancestors only: the same object twice side by side is no cycle.
  seen.add(value);
  try {
    if (value instanceof Error) return sanitizeError(value, depth, seen);
    if (Array.isArray(value)) return value.map((v) => sanitizeForLog(v, depth + 1, seen));
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = sanitizeEntry(key, v, depth, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

function sanitizeEntry(key: string, value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (SECRET_KEY.test(key)) return value === undefined ? undefined : MASK;
  if (key === 'command' && value !== null && typeof value === 'object') {
    // ioredis: { name, args } of the command that failed; the arguments may be credentials or data.
    const name = (value as { name?: unknown }).name;
    return typeof name === 'string' ? { name } : MASK;
  }
  return sanitizeForLog(value, depth + 1, seen);
}

function sanitizeError(err: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: redactText(err.message) };
  if (err.stack !== undefined) out.stack = redactText(err.stack);
  for (const [key, v] of Object.entries(err)) {
    if (key === 'message' || key === 'stack') continue;
    out[key] = sanitizeEntry(key, v, depth, seen);
  }
  if (err.cause !== undefined) out.cause = sanitizeForLog(err.cause, depth + 1, seen);
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) out.errors = inner.map((e) => sanitizeForLog(e, depth + 1, seen));
  return out;
}
