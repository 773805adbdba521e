import { UsageError } from './program';

/** A whole number within [min, max] from a flag's text; a usage error naming the flag otherwise. */
export function intOption(flag: string, value: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** One of `choices`, or a usage error naming the flag. */
export function choiceOption<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T {
  if (value === undefined || !(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${choices.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

/** A calendar date `YYYY-MM-DD` that exists, or a usage error naming the flag. */
export function dateOption(flag: string, value: string | undefined): string {
  const m = value === undefined ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.toISOString().slice(0, 10) !== value) {
    throw new UsageError(`${flag} must be a date YYYY-MM-DD (got ${JSON.stringify(value)})`);
  }
  return value!;
}

/** Plain text table: columns padded to their widest cell. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
