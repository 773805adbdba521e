// Hand-written inline SVG for the HTML report: no charting dependency, no external asset, every
// text escaped. Each mark carries its exact value in data attributes (money as integer cents,
// rates as the stored two-decimal strings), so a reader — or a test — can check what is drawn
// against the aggregate rows.

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export interface RevenuePoint {
  /** Tenant-local label of the period, e.g. `2025-11-03` or `2025-11-03 .. 2025-11-09`. */
  label: string;
  /** Short axis label, e.g. `11-03`. */
  tick: string;
  periodStart: string;
  /** Null when the period has no row. */
  netRevenueCents: bigint | null;
  mrrCents: bigint | null;
  /** Formatted amounts for the labels. */
  netRevenueText: string;
  mrrText: string;
}

export interface CohortCell {
  monthNumber: number;
  retainedUsers: number;
  cohortSize: number;
  /** Two decimals, as stored. */
  retentionRate: string;
}

export interface CohortLine {
  /** `YYYY-MM-DD`, the cohort month's first local day. */
  month: string;
  cohortSize: number;
  cells: CohortCell[];
}

/** `1 user`, `12 users`. */
export const users = (n: number): string => `${n} user${n === 1 ? '' : 's'}`;

const attr = (name: string, value: string | number) => ` ${name}="${escapeHtml(String(value))}"`;
const num = (n: number) => (Math.round(n * 10) / 10).toString();

/** Net revenue as bars and MRR as a line over the report's periods. */
export function revenueChart(points: RevenuePoint[], currency: string): string {
  const width = 720;
  const height = 300;
  const left = 20;
  const right = 20;
  const top = 30;
  const bottom = 50;
  const values = points.flatMap((p) => [p.netRevenueCents, p.mrrCents]).filter((v): v is bigint => v !== null).map(Number);
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  const span = max - min || 1;
  const plotH = height - top - bottom;
  const y = (v: number) => top + ((max - v) / span) * plotH;
  const slot = (width - left - right) / Math.max(1, points.length);
  const barW = Math.max(4, slot * 0.5);
  const cx = (i: number) => left + slot * i + slot / 2;
  const zero = y(0);
  const marks: string[] = [`<line class="axis" x1="${left}" x2="${width - right}" y1="${num(zero)}" y2="${num(zero)}" stroke="#999"/>`];
  points.forEach((p, i) => {
    marks.push(`<text class="tick" x="${num(cx(i))}" y="${height - bottom + 18}" text-anchor="middle">${escapeHtml(p.tick)}</text>`);
    if (p.netRevenueCents === null) {
      marks.push(`<text class="nodata" x="${num(cx(i))}" y="${num(zero - 6)}" text-anchor="middle" data-period-start="${escapeHtml(p.periodStart)}">no data</text>`);
      return;
    }
    const v = Number(p.netRevenueCents);
    const yTop = Math.min(y(v), zero);
    const h = Math.max(1, Math.abs(y(v) - zero));
    marks.push(
      `<rect class="bar revenue"${attr('x', num(cx(i) - barW / 2))}${attr('y', num(yTop))}${attr('width', num(barW))}${attr('height', num(h))}` +
        `${attr('fill', v < 0 ? '#d9534f' : '#4a90d9')}${attr('data-period-start', p.periodStart)}${attr('data-period', p.label)}` +
        `${attr('data-net-revenue-cents', p.netRevenueCents.toString())}><title>${escapeHtml(`${p.label}: net revenue ${p.netRevenueText}`)}</title></rect>`,
      `<text class="value revenue" x="${num(cx(i))}" y="${num(v < 0 ? yTop + h + 12 : yTop - 4)}" text-anchor="middle"` +
        `${attr('data-period-start', p.periodStart)}>${escapeHtml(p.netRevenueText)}</text>`,
    );
  });
  const mrr = points.map((p, i) => ({ p, i })).filter(({ p }) => p.mrrCents !== null);
  if (mrr.length > 0) {
    marks.push(`<polyline class="mrr" fill="none" stroke="#e8a33d" stroke-width="2" points="${mrr.map(({ p, i }) => `${num(cx(i))},${num(y(Number(p.mrrCents)))}`).join(' ')}"/>`);
    for (const { p, i } of mrr) {
      marks.push(
        `<circle class="point mrr" r="4" fill="#e8a33d"${attr('cx', num(cx(i)))}${attr('cy', num(y(Number(p.mrrCents))))}${attr('data-period-start', p.periodStart)}` +
          `${attr('data-period', p.label)}${attr('data-mrr-cents', p.mrrCents!.toString())}><title>${escapeHtml(`${p.label}: MRR ${p.mrrText}`)}</title></circle>`,
      );
    }
  }
  marks.push(
    `<rect x="${left}" y="8" width="12" height="12" fill="#4a90d9"/><text x="${left + 16}" y="18">${escapeHtml(`net revenue (${currency})`)}</text>`,
    `<circle cx="${left + 186}" cy="14" r="5" fill="#e8a33d"/><text x="${left + 196}" y="18">MRR</text>`,
  );
  return svg('revenue', width, height, `Net revenue and MRR over the last ${points.length} periods`, marks);
}

/** Cell colour: light for low retention, dark for high. */
function heat(rate: number): string {
  const lightness = 96 - Math.min(100, Math.max(0, rate)) * 0.6;
  return `hsl(210, 65%, ${num(lightness)}%)`;
}

/** The retention cohort triangle: one row per cohort month, one column per month number. */
export function cohortHeatMap(lines: CohortLine[]): string {
  const columns = Math.max(1, ...lines.map((l) => l.cells.reduce((m, c) => Math.max(m, c.monthNumber + 1), 0)));
  const labelW = 150;
  const cellW = 72;
  const cellH = 30;
  const top = 26;
  const width = labelW + columns * cellW + 10;
  const height = top + Math.max(1, lines.length) * cellH + 10;
  const marks: string[] = [];
  for (let k = 0; k < columns; k++) {
    marks.push(`<text class="column" x="${labelW + k * cellW + cellW / 2}" y="18" text-anchor="middle">${escapeHtml(`month ${k}`)}</text>`);
  }
  lines.forEach((line, row) => {
    const yRow = top + row * cellH;
    marks.push(`<text class="cohort" x="4" y="${yRow + 20}">${escapeHtml(`${line.month.slice(0, 7)} (${users(line.cohortSize)})`)}</text>`);
    for (const c of line.cells) {
      const rate = Number(c.retentionRate);
      const x = labelW + c.monthNumber * cellW;
      marks.push(
        `<rect class="cell"${attr('x', x)}${attr('y', yRow)}${attr('width', cellW - 2)}${attr('height', cellH - 2)}${attr('fill', heat(rate))}` +
          `${attr('data-cohort-month', line.month)}${attr('data-month-number', c.monthNumber)}${attr('data-retained-users', c.retainedUsers)}` +
          `${attr('data-cohort-size', c.cohortSize)}${attr('data-retention-rate', c.retentionRate)}>` +
          `<title>${escapeHtml(`cohort ${line.month.slice(0, 7)}, month ${c.monthNumber}: ${c.retainedUsers} of ${users(c.cohortSize)}`)}</title></rect>`,
        `<text class="rate" x="${x + (cellW - 2) / 2}" y="${yRow + 19}" text-anchor="middle" fill="${rate > 55 ? '#fff' : '#222'}">${escapeHtml(`${c.retentionRate}%`)}</text>`,
      );
    }
  });
  return svg('cohorts', width, height, `Retention by cohort month over ${lines.length} cohorts`, marks);
}

/** Tournaments created in a period, per format, as horizontal bars. */
export function formatChart(formats: { format: string; count: number }[]): string {
  const labelW = 170;
  const barMaxW = 420;
  const rowH = 26;
  const width = labelW + barMaxW + 60;
  const height = Math.max(1, formats.length) * rowH + 10;
  const max = Math.max(1, ...formats.map((f) => f.count));
  const marks = formats.flatMap((f, i) => {
    const yRow = 5 + i * rowH;
    const w = Math.max(1, (f.count / max) * barMaxW);
    return [
      `<text class="format" x="4" y="${yRow + 16}">${escapeHtml(f.format)}</text>`,
      `<rect class="bar format"${attr('x', labelW)}${attr('y', yRow)}${attr('width', num(w))}${attr('height', rowH - 6)} fill="#5cb85c"` +
        `${attr('data-format', f.format)}${attr('data-count', f.count)}><title>${escapeHtml(`${f.format}: ${f.count}`)}</title></rect>`,
      `<text class="value format" x="${num(labelW + w + 6)}" y="${yRow + 16}"${attr('data-format', f.format)}>${f.count}</text>`,
    ];
  });
  return svg('formats', width, height, 'Tournaments per format', marks);
}

function svg(name: string, width: number, height: number, label: string, marks: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${name}" role="img" aria-label="${escapeHtml(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    ...marks,
    '</svg>',
  ].join('\n');
}
