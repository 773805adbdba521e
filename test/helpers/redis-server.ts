import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './ports';

/** A private redis-server on loopback, started by the test (no persistence), stopped by `stop()`. */
export interface PrivateRedis {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` with extra arguments (`--requirepass` …) on a free port and waits until it
 * is ready. With `tls`, that port is the TLS port (the plain port is off).
 */
export async function startPrivateRedis(extra: string[] = [], options: { tls?: { cert: string; key: string; ca: string } } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const portArgs = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const child = spawn('redis-server', [...portArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s: ${output}`));
    }, 10_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited at start-up: ${output}`));
    });
  });
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
