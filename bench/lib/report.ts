// Results: one JSON file per run (bench/results/<date>[-label].json) and the tables of
// docs/BENCHMARKS.md between its result markers, with a history of the headline ratios.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ROOT } from './cli';
import type { Machine } from './machine';

export interface Table {
  header: string[];
  rows: (string | number)[][];
}

export interface Headline {
  /** Short, stable key (e.g. `queued/lower-bound`), compared across runs in the history. */
  key: string;
  value: number;
  /** What the value is, with its unit or "x" for a ratio. */
  label: string;
}

export interface Section {
  id: string;
  title: string;
  /** How it was measured, one paragraph of Markdown. */
  method: string;
  tables: Table[];
  headlines: Headline[];
  notes: string[];
  /** Everything measured, raw samples included. */
  data: unknown;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  label: string | undefined;
  command: string;
  machine: Machine;
  options: unknown;
  /** 1-minute load average sampled every 10 s while the benchmarks ran (shared machines). */
  loadDuringRun?: { samples: number; mean: number; max: number };
  sections: Section[];
  errors: { benchmark: string; message: string }[];
  /** Remarks about the run as a whole (added by hand when needed). */
  notes?: string[];
}

export const RESULTS_DIR = `${ROOT}bench/results`;
export const DOC = `${ROOT}docs/BENCHMARKS.md`;
const BEGIN = '<!-- bench:results:begin (written by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:results:end -->';

/** Writes the run's JSON; never overwrites an earlier run of the same day (a -2, -3 … suffix). */
export function writeResults(results: BenchResults): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = `${results.startedAt.slice(0, 10)}${results.label ? `-${results.label}` : ''}`;
  let path = `${RESULTS_DIR}/${base}.json`;
  for (let n = 2; existsSync(path); n++) path = `${RESULTS_DIR}/${base}-${n}.json`;
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

function markdownTable(t: Table): string {
  const esc = (c: string | number) => String(c).replace(/\|/g, '\\|');
  return [`| ${t.header.map(esc).join(' | ')} |`, `| ${t.header.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function renderRun(results: BenchResults, file: string): string {
  const m = results.machine;
  const lines: string[] = [
    `### Latest run: ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC${results.label ? ` (${results.label})` : ''}`,
    '',
    `\`${results.command}\` → \`${file.replace(ROOT, '')}\``,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGb} GB, load ${m.loadAverage1m} at start; ${m.os}; Node ${m.node}; ` +
      `Postgres ${m.postgres}; Redis ${m.redis}; Temporal CLI ${m.temporalCli.replace(/\n/g, ' ')}; commit ${m.commit}` +
      (m.uncommittedFiles > 0 ? ` with ${m.uncommittedFiles} uncommitted files` : ''),
    '',
  ];
  const runtime = (results.options as { runtime?: string } | undefined)?.runtime;
  lines.push(
    runtime === 'compiled'
      ? 'The `analytics` subprocesses (workers, CLI, seed) ran the compiled package (`dist/cli/index.js`, as the npm package and the image do).'
      : 'The `analytics` subprocesses (workers, CLI, seed) ran the TypeScript sources through tsx (`bin/analytics.js` in the checkout).',
    '',
  );
  if (results.loadDuringRun) lines.push(`Load average (1 min) while it ran: mean ${results.loadDuringRun.mean}, max ${results.loadDuringRun.max} (${results.loadDuringRun.samples} samples, every 10 s).`, '');
  for (const n of results.notes ?? []) lines.push(`- ${n}`);
  if ((results.notes ?? []).length > 0) lines.push('');
  for (const s of results.sections) {
    lines.push(`#### ${s.title}`, '', s.method, '');
    for (const t of s.tables) lines.push(markdownTable(t), '');
    for (const n of s.notes) lines.push(`- ${n}`);
    if (s.notes.length > 0) lines.push('');
  }
  for (const e of results.errors) lines.push(`- **${e.benchmark} failed**: ${e.message.replace(/\n/g, ' ').slice(0, 500)}`);
  return lines.join('\n');
}

/** Headline figures of every results file, oldest first. */
export function renderHistory(rebuild: (s: Section) => Section = (s) => s): string {
  if (!existsSync(RESULTS_DIR)) return '';
  const runs = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, r: JSON.parse(readFileSync(`${RESULTS_DIR}/${f}`, 'utf8')) as BenchResults }))
    .sort((a, b) => a.r.startedAt.localeCompare(b.r.startedAt));
  const rows: (string | number)[][] = [];
  for (const { file, r } of runs) {
    for (const s of r.sections.map(rebuild)) {
      for (const h of s.headlines) rows.push([file, r.label ?? '', r.machine.commit + (r.machine.uncommittedFiles > 0 ? '+' : ''), h.label, h.value]);
    }
  }
  if (rows.length === 0) return '';
  return ['### History (headline figures of every file in bench/results)', '', markdownTable({ header: ['results file', 'label', 'commit', 'figure', 'value'], rows })].join('\n');
}

/** Replaces the generated part of docs/BENCHMARKS.md (creating the markers when absent). */
export function updateDoc(results: BenchResults, file: string, rebuild: (s: Section) => Section = (s) => s): void {
  const generated = `${BEGIN}\n\n${renderRun({ ...results, sections: results.sections.map(rebuild) }, file)}\n\n${renderHistory(rebuild)}\n\n${END}`;
  const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next = start >= 0 && end > start ? current.slice(0, start) + generated + current.slice(end + END.length) : `${current.trimEnd()}\n\n## Results\n\n${generated}\n`;
  writeFileSync(DOC, next);
}
