import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerMetrics } from './registry';

/** One check of `/readyz` or `/healthz`. */
export interface ProbeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface MetricsServerOptions {
  /** @defaultValue 127.0.0.1 */
  host: string;
  /** 0 picks a free port (tests); the CLI never passes 0 here (METRICS_PORT=0 means no server). */
  port: number;
  metrics: WorkerMetrics;
  /**
   * The Temporal SDK's own Prometheus exporter (Runtime telemetry), on a loopback port of its
   * own; its series are appended to every `/metrics` answer, so Prometheus scrapes one target.
   * @defaultValue none (no SDK series)
   */
  temporalMetricsUrl?: string | undefined;
  /** Liveness: false when the process is broken for good (a Temporal worker failed). */
  live(): ProbeCheck[];
  /** Readiness: every Temporal worker running, the bridge connected to Redis. */
  ready(): Promise<ProbeCheck[]>;
}

export interface MetricsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 */
  readonly url: string;
  close(): Promise<void>;
}

/** How long a scrape waits for the SDK's exporter before answering without its series. */
const TEMPORAL_SCRAPE_TIMEOUT_MS = 2_000;

async function temporalSeries(url: string | undefined): Promise<string> {
  if (!url) return '';
  const up = (v: 0 | 1) =>
    '# HELP analytics_temporal_sdk_metrics_up Whether the Temporal SDK exporter answered this scrape (its temporal_* series follow)\n' +
    `# TYPE analytics_temporal_sdk_metrics_up gauge\nanalytics_temporal_sdk_metrics_up ${v}\n`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TEMPORAL_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) return up(0);
    const text = await res.text();
    return up(1) + (text.endsWith('\n') || text === '' ? text : `${text}\n`);
  } catch {
    return up(0);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

/**
 * The workers process's HTTP endpoint: `GET /metrics` (Prometheus text: the project's series,
 * Node's process series, and the Temporal SDK's), `GET /healthz` (liveness) and `GET /readyz`
 * (readiness; 503 with the failing checks otherwise). Resolves once listening; rejects when the
 * address is taken.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' });
    if (path === '/metrics') {
      const [own, temporal] = await Promise.all([options.metrics.render(), temporalSeries(options.temporalMetricsUrl)]);
      res.writeHead(200, { 'content-type': options.metrics.registry.contentType, 'cache-control': 'no-store' });
      return res.end(own + (own.endsWith('\n') ? '' : '\n') + temporal);
    }
    if (path === '/healthz' || path === '/readyz') {
      const checks = path === '/healthz' ? options.live() : await options.ready();
      const ok = checks.every((c) => c.ok);
      return json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
    }
    return json(res, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  // Prometheus keeps its connection open between scrapes; close() must not wait for it.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
