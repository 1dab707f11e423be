import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  readonly port: number;
  readonly host: string;
  readonly registry: Registry;
  /** /readyz answers 503 while this is false (closing, or Redis unreachable). */
  readonly isReady: () => boolean;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

async function route(req: IncomingMessage, res: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
  switch (path) {
    case '/metrics':
      return reply(res, 200, await options.registry.metrics(), options.registry.contentType);
    case '/healthz':
      // Liveness: the event loop answers. Redis outages are readiness, not a reason to restart the pod.
      return reply(res, 200, 'ok\n');
    case '/readyz':
      return options.isReady() ? reply(res, 200, 'ready\n') : reply(res, 503, 'not ready\n');
    default:
      return reply(res, 404, 'not found\n');
  }
}

/** /metrics, /healthz and /readyz on node:http: no framework for three routes. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    route(req, res, options).catch((err: unknown) =>
      reply(res, 500, `${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
