import { formatTable } from './options';

/** Prints `rows` as an aligned plain-text table (the human default; --json prints JSON instead). */
export function printTable(rows: Record<string, unknown>[], columns?: string[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]!);
  console.log(formatTable(cols, rows.map((r) => cols.map((c) => format(r[c])))));
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(format).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** JSON on stdout; bigint (cents) as strings. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
}
