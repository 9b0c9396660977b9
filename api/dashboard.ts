// The dashboard (web/index.html) at `/`. Public: the page itself holds no data and asks
// for an API key, then uses the same authenticated API as any client. Read once at start.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const PAGE = new URL('../web/index.html', import.meta.url);

export function dashboardRoutes(app: FastifyInstance): void {
  const html = readFileSync(PAGE);
  app.get('/', { config: { auth: 'public' }, schema: { summary: 'Dashboard (HTML)', hide: true } as object },
    async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html));
}
