import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { withTransientMapping } from '../aggregation/transient';
import type { Db } from '../db/client';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { safeSegment } from './export';

// Scheduled reports: for each tenant, a plain-text and an HTML summary of its latest aggregates
// (the latest complete period of the report's period type, and the latest cohort month), written
// to `<reportDir>/<tenantId>/<fileStem>.txt|.html`.

export type ReportPeriodType = 'day' | 'week' | 'month';

export interface WriteTenantReportInput {
  tenantId: string;
  /** @defaultValue day */
  periodType?: ReportPeriodType;
  /** ISO instant the report is "as of": only periods that ended by then count. */
  asOf: string;
  fileStem: string;
}

export interface TenantReport {
  tenantId: string;
  textPath: string;
  htmlPath: string;
  /** Period start of the revenue row reported, or null when the tenant has none yet. */
  revenuePeriodStart: string | null;
  tournamentPeriodStart: string | null;
  /** `YYYY-MM-DD` of the cohort month reported, or null. */
  cohortMonth: string | null;
}

export interface ReportActivityDeps {
  db: Db;
  logger: Logger;
  /** Directory the reports are written to (created when missing). */
  reportDir: string;
}

interface Decimalish {
  toFixed(n: number): string;
}

interface ReportData {
  org: { id: string; name: string; timezone: string; currency: string };
  periodType: ReportPeriodType;
  asOf: string;
  revenue: {
    periodStart: Date; periodEnd: Date; totalRevenueCents: bigint; grossRevenueCents: bigint; paymentCount: number;
    paymentSuccessCount: number; paymentSuccessRate: Decimalish; refundCount: number; refundAmountCents: bigint; mrrCents: bigint; arrCents: bigint;
  } | null;
  tournaments: {
    periodStart: Date; periodEnd: Date; tournamentCount: number; completedCount: number; completionRate: Decimalish; totalPlayers: number;
    avgPlayers: Decimalish; avgDurationMinutes: Decimalish | null; mostPopularFormat: string | null; revenueCents: bigint;
  } | null;
  cohort: { month: string; rows: { monthNumber: number; cohortSize: number; retainedUsers: number; retentionRate: Decimalish }[] } | null;
}

/** Cents in the tenant's currency, e.g. `€1,234.56`; an unknown currency code is printed after the amount. */
export function formatMoney(cents: bigint, currency: string): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const units = `${(abs / 100n).toLocaleString('en-US')}.${(abs % 100n).toString().padStart(2, '0')}`;
  let symbol: string | undefined;
  try {
    symbol = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0).find((p) => p.type === 'currency')?.value;
  } catch {
    symbol = undefined;
  }
  const amount = symbol ? `${symbol}${units}` : `${units} ${currency}`;
  return negative ? `-${amount}` : amount;
}

function localPeriod(start: Date, end: Date, zone: string, periodType: string): string {
  const s = DateTime.fromJSDate(start, { zone });
  const e = DateTime.fromJSDate(end, { zone });
  if (periodType === 'day') return s.toISODate()!;
  return `${s.toISODate()!} .. ${e.minus({ days: 1 }).toISODate()!}`;
}

/** The report as lines of [label, value] per section, shared by the text and HTML renderings. */
function sections(d: ReportData): { title: string; rows: [string, string][]; empty?: string }[] {
  const money = (c: bigint) => formatMoney(c, d.org.currency);
  const zone = d.org.timezone;
  const r = d.revenue;
  const t = d.tournaments;
  return [
    {
      title: r ? `Revenue, ${d.periodType} ${localPeriod(r.periodStart, r.periodEnd, zone, d.periodType)}` : 'Revenue',
      empty: r ? undefined : `no ${d.periodType} revenue aggregates yet`,
      rows: r
        ? [
            ['Net revenue', money(r.totalRevenueCents)],
            ['Gross revenue', money(r.grossRevenueCents)],
            ['Payments', `${r.paymentCount} (${r.paymentSuccessCount} succeeded, ${r.paymentSuccessRate.toFixed(2)}%)`],
            ['Refunds', `${r.refundCount} (${money(r.refundAmountCents)})`],
            ['MRR', money(r.mrrCents)],
            ['ARR', money(r.arrCents)],
          ]
        : [],
    },
    {
      title: t ? `Tournaments, ${d.periodType} ${localPeriod(t.periodStart, t.periodEnd, zone, d.periodType)}` : 'Tournaments',
      empty: t ? undefined : `no ${d.periodType} tournament aggregates yet`,
      rows: t
        ? [
            ['Tournaments', `${t.tournamentCount} (${t.completedCount} completed, ${t.completionRate.toFixed(2)}%)`],
            ['Players', `${t.totalPlayers} (${t.avgPlayers.toFixed(2)} per tournament)`],
            ['Average duration', t.avgDurationMinutes === null ? 'n/a' : `${t.avgDurationMinutes.toFixed(2)} minutes`],
            ['Most popular format', t.mostPopularFormat ?? 'n/a'],
            ['Tournament revenue', money(t.revenueCents)],
          ]
        : [],
    },
    {
      title: d.cohort ? `Retention, cohort ${d.cohort.month.slice(0, 7)}` : 'Retention',
      empty: d.cohort ? undefined : 'no cohort aggregates yet',
      rows: (d.cohort?.rows ?? []).map((c): [string, string] => [
        `Month ${c.monthNumber}`,
        `${c.retainedUsers} of ${c.cohortSize} users (${c.retentionRate.toFixed(2)}%)`,
      ]),
    },
  ];
}

function heading(d: ReportData): string {
  return `Analytics report: ${d.org.name} (${d.org.id})`;
}

function subheading(d: ReportData): string {
  return `Latest complete ${d.periodType} as of ${d.asOf}, timezone ${d.org.timezone}, currency ${d.org.currency}`;
}

export function renderText(d: ReportData): string {
  const lines = [heading(d), subheading(d), ''];
  for (const s of sections(d)) {
    lines.push(s.title);
    if (s.empty) lines.push(`  ${s.empty}`);
    const width = Math.max(0, ...s.rows.map(([label]) => label.length));
    for (const [label, value] of s.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
    lines.push('');
  }
  return lines.join('\n');
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export function renderHtml(d: ReportData): string {
  const body = sections(d)
    .map((s) => {
      const content = s.empty
        ? `<p class="empty">${escapeHtml(s.empty)}</p>`
        : `<table>\n${s.rows.map(([l, v]) => `<tr><th>${escapeHtml(l)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}\n</table>`;
      return `<section>\n<h2>${escapeHtml(s.title)}</h2>\n${content}\n</section>`;
    })
    .join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeHtml(heading(d))}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:2rem}th{text-align:left;padding-right:1rem;font-weight:normal;color:#555}.empty{color:#888}</style></head>',
    '<body>',
    `<h1>${escapeHtml(heading(d))}</h1>`,
    `<p>${escapeHtml(subheading(d))}</p>`,
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function createReportActivities({ db, logger, reportDir }: ReportActivityDeps) {
  const log = logger.child({ component: 'report' });

  async function loadReport(tenantId: string, periodType: ReportPeriodType, asOf: Date): Promise<ReportData> {
    return withTransientMapping('reading aggregates for a report', async () => {
      const org = await db.organization.findUnique({ where: { id: tenantId }, select: { id: true, name: true, timezone: true, currency: true } });
      if (!org) throw new UnknownTenantError(tenantId);
      const latest = { tenantId, periodType, periodEnd: { lte: asOf } };
      const [revenue, tournaments] = await Promise.all([
        db.revenueAggregate.findFirst({ where: latest, orderBy: { periodStart: 'desc' } }),
        db.tournamentAggregate.findFirst({ where: latest, orderBy: { periodStart: 'desc' } }),
      ]);
      // Cohort months are tenant-local dates: the latest one that has begun by `asOf`.
      const asOfMonth = DateTime.fromJSDate(asOf, { zone: org.timezone }).startOf('month').toISODate()!;
      const newest = await db.userCohort.findFirst({
        where: { tenantId, cohortMonth: { lte: new Date(`${asOfMonth}T00:00:00.000Z`) } },
        orderBy: { cohortMonth: 'desc' },
        select: { cohortMonth: true },
      });
      const cohortRows = newest
        ? await db.userCohort.findMany({ where: { tenantId, cohortMonth: newest.cohortMonth }, orderBy: { monthNumber: 'asc' } })
        : [];
      return {
        org,
        periodType,
        asOf: asOf.toISOString(),
        revenue,
        tournaments,
        cohort: newest ? { month: newest.cohortMonth.toISOString().slice(0, 10), rows: cohortRows } : null,
      };
    });
  }

  async function writeAtomically(path: string, content: string): Promise<void> {
    const partial = `${path}.partial-${process.pid}-${Date.now()}`;
    await writeFile(partial, content, 'utf8');
    await rename(partial, path);
  }

  return {
    /** The tenant the job names (it must exist), or every active organization, sorted by id. */
    async listReportTenants(input: { tenantId?: string }): Promise<string[]> {
      if (input.tenantId !== undefined) {
        const org = await withTransientMapping('loading the tenant', () => db.organization.findUnique({ where: { id: input.tenantId }, select: { id: true } }));
        if (!org) throw new UnknownTenantError(input.tenantId);
        return [org.id];
      }
      const rows = await withTransientMapping('listing active tenants', () =>
        db.organization.findMany({ where: { status: 'active' }, select: { id: true }, orderBy: { id: 'asc' } }),
      );
      return rows.map((r) => r.id);
    },

    /** Writes one tenant's text and HTML summary; returns their paths. */
    async writeTenantReport(input: WriteTenantReportInput): Promise<TenantReport> {
      const periodType = input.periodType ?? 'day';
      const data = await loadReport(input.tenantId, periodType, new Date(input.asOf));
      const dir = resolve(reportDir, safeSegment(input.tenantId));
      await mkdir(dir, { recursive: true });
      const stem = join(dir, safeSegment(input.fileStem));
      const textPath = `${stem}.txt`;
      const htmlPath = `${stem}.html`;
      await writeAtomically(textPath, renderText(data));
      await writeAtomically(htmlPath, renderHtml(data));
      log.info({ tenantId: input.tenantId, textPath, htmlPath }, 'wrote tenant report');
      return {
        tenantId: input.tenantId,
        textPath,
        htmlPath,
        revenuePeriodStart: data.revenue?.periodStart.toISOString() ?? null,
        tournamentPeriodStart: data.tournaments?.periodStart.toISOString() ?? null,
        cohortMonth: data.cohort?.month ?? null,
      };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
