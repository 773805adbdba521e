import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { readPem, type TemporalTls } from '../config';

// One place turns the configuration into Temporal connection options, for both the client
// (`@temporalio/client` Connection: facade, CLI, scheduler) and the worker (`NativeConnection`),
// so that a hosted server (TLS, mTLS, Temporal Cloud API key) works for every process alike.

/** What a Temporal connection needs from the configuration (`config.temporal`). */
export interface TemporalConnectionConfig {
  /** `host:port` of the frontend. */
  address: string;
  /** TLS settings; undefined for plain text. */
  tls?: TemporalTls | undefined;
  /** Sent as `Authorization: Bearer <key>`; implies TLS. */
  apiKey?: string | undefined;
}

type Tls = NonNullable<Exclude<ConnectionOptions['tls'], boolean>>;

/** TLS settings with the PEM files read (a ConfigError naming the variable when one cannot be). */
function tlsOf(config: TemporalConnectionConfig): Tls | undefined {
  const tls = config.tls ?? (config.apiKey !== undefined ? {} : undefined);
  if (tls === undefined) return undefined;
  return {
    ...(tls.serverName !== undefined ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.caFile !== undefined ? { serverRootCACertificate: readPem(tls.caFile, 'TEMPORAL_TLS_CA') } : {}),
    ...(tls.certFile !== undefined && tls.keyFile !== undefined
      ? { clientCertPair: { crt: readPem(tls.certFile, 'TEMPORAL_TLS_CERT'), key: readPem(tls.keyFile, 'TEMPORAL_TLS_KEY') } }
      : {}),
  };
}

/**
 * Options for `Connection.connect` (client) and `NativeConnection.connect` (worker) from the
 * configuration: address, TLS (server CA, client certificate pair, server name) and API key.
 * `connectTimeoutMs` bounds the client's first connection.
 */
export function temporalConnectionOptions(
  config: TemporalConnectionConfig,
  options: { connectTimeoutMs?: number } = {},
): { client: ConnectionOptions; native: NativeConnectionOptions } {
  const tls = tlsOf(config);
  const security = {
    ...(tls !== undefined ? { tls } : {}),
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
  };
  return {
    client: { address: config.address, ...security, ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}) },
    native: { address: config.address, ...security },
  };
}
