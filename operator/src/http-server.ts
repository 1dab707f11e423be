import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { Registry } from 'prom-client';
import type { ListenAddress } from './config.ts';

export interface Probes {
  /** Why the process is not alive (a loop that stopped turning); empty when it is. */
  livenessProblems: () => string[];
  /** The operator's caches are synced and it can act. */
  ready: () => boolean;
}

/** Serves /healthz and /readyz, and /metrics when given a registry. */
export async function startHttpServer(
  address: ListenAddress,
  handlers: { probes?: Probes; registry?: Registry },
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const probe = (ok: boolean) => {
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    };
    if (path === '/healthz' && handlers.probes) {
      const problems = handlers.probes.livenessProblems();
      if (problems.length === 0) return probe(true);
      return void response.writeHead(503, { 'content-type': 'text/plain' }).end(`stuck:\n${problems.join('\n')}\n`);
    }
    if (path === '/readyz' && handlers.probes) return probe(handlers.probes.ready());
    if (path === '/metrics' && handlers.registry) {
      const registry = handlers.registry;
      registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    response.writeHead(404).end('not found\n');
  });
  server.listen(address.port, address.host);
  await once(server, 'listening');
  return server;
}
