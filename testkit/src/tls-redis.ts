import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { freeLoopbackPort, startProcess, waitUntil } from './processes.ts';

export interface TlsRedis {
  readonly port: number;
  /** PEM of the CA that signed the server certificate (issued for "redis.test" and 127.0.0.1). */
  readonly ca: string;
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** Makes a throw-away CA and a server certificate signed by it. */
function makeCertificates(dir: string): void {
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:redis.test,IP:127.0.0.1\n');
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=workerpool test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  ]);
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=redis.test',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.cnf',
    '-out',
    'server.crt',
  ]);
}

/** A redis-server that speaks only TLS, on a free loopback port. */
export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'workerpool-tls-redis-'));
  makeCertificates(dir);
  const port = await freeLoopbackPort();
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const proc = startProcess('redis-server (tls)', 'redis-server', [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--tls-cert-file',
    join(dir, 'server.crt'),
    '--tls-key-file',
    join(dir, 'server.key'),
    '--tls-ca-cert-file',
    join(dir, 'ca.crt'),
    '--tls-auth-clients',
    'no',
  ]);
  await waitUntil(
    `TLS redis-server on port ${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', ca, servername: 'redis.test' }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    { process: proc, timeoutMs: 15_000 },
  );
  return {
    port,
    ca,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
