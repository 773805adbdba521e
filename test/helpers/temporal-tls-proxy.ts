import { readFileSync } from 'node:fs';
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/** What the proxy saw of its clients: proof of which TLS options and headers reached it. */
export interface SeenByProxy {
  /** SNI names clients sent. */
  serverNames: Set<string>;
  /** Common names of the client certificates presented (mTLS). */
  clientCertificates: Set<string>;
  /** `authorization` header values (the API key arrives as `Bearer <key>`). */
  authorizations: Set<string>;
  /** gRPC methods called (`/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace`). */
  paths: Set<string>;
}

export interface TemporalTlsProxy {
  port: number;
  seen: SeenByProxy;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings']);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * A TLS front for the real Temporal dev server, as a hosted Temporal (or a TLS-terminating load
 * balancer) would be: it terminates TLS with the given server certificate, requires a client
 * certificate signed by `ca` (mTLS), records the SNI name, client certificate and `authorization`
 * header of every call, and relays each gRPC call unchanged to `upstream` over plain HTTP/2.
 */
export async function startTemporalTlsProxy(options: { upstream: string; cert: string; key: string; ca: string }): Promise<TemporalTlsProxy> {
  const seen: SeenByProxy = { serverNames: new Set(), clientCertificates: new Set(), authorizations: new Set(), paths: new Set() };
  const upstream = http2.connect(`http://${options.upstream}`);
  upstream.on('error', () => {});
  const server = http2.createSecureServer({
    cert: readFileSync(options.cert),
    key: readFileSync(options.key),
    ca: readFileSync(options.ca),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    if (socket?.servername) seen.serverNames.add(socket.servername);
    const peer = socket?.getPeerCertificate();
    if (peer?.subject?.CN) seen.clientCertificates.add(String(peer.subject.CN));
    if (typeof headers.authorization === 'string') seen.authorizations.add(headers.authorization);
    if (typeof headers[':path'] === 'string') seen.paths.add(headers[':path']);

    const call = upstream.request(forwardable(headers));
    let trailers: OutgoingHttpHeaders = {};
    call.on('response', (response) => {
      if (response['grpc-status'] !== undefined) {
        // A trailers-only answer (an error): headers and status in one frame, no body.
        stream.respond(forwardable(response), { endStream: true });
        call.resume();
        return;
      }
      stream.respond(forwardable(response), { waitForTrailers: true });
      call.pipe(stream);
    });
    call.on('trailers', (t) => (trailers = forwardable(t)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(call);
    call.on('error', () => stream.destroy());
    stream.on('error', () => call.destroy());
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    seen,
    close: async () => {
      upstream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open client sessions would keep close() waiting.
        for (const s of sessions) s.destroy();
      });
    },
  };
}
