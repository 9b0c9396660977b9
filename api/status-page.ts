// GET /status: the public status page (DESIGN.md §1, L4: "status page update"). No key: the
// people it is for (users of the tenants' dashboards, the SRE team on a phone) may hold none.
// It says only what the whole node's users may know: the level, its name, since when, and what
// that means for them; never which dependency failed, a tenant, or a breaker's name. JSON by
// default; HTML for a browser (Accept: text/html), refreshing itself every 30 s.
import type { FastifyInstance } from 'fastify';
import { CAPABILITIES, LEVEL_NAMES, type Level } from '../supervisors/index.ts';
import type { Engine } from './engine.ts';

/** What each level means to the people who rely on Vigil's alerts. */
export const STATUS_MESSAGES: Readonly<Record<Level, string>> = Object.freeze({
  0: 'All systems operational.',
  1: 'Reduced detection: learnt models are paused; statistical detection and automated remediation continue.',
  2: 'Degraded: rule-based detection and time-based grouping; runbooks are suggested, not run.',
  3: 'Storage degraded: alerts go straight to the on-call, without correlation or root-cause analysis.',
  4: 'Emergency: only static fallback alerts are sent; the SRE team has been notified.',
});

export interface StatusPage {
  level: Level;
  levelName: string;
  /** Unix ms of the last level change */
  since: number;
  /** true at L4: the page is the incident's public face */
  statusPage: boolean;
  message: string;
}

export function statusPage(status: { level: number; since: number }): StatusPage {
  const level = status.level as Level;
  return { level, levelName: LEVEL_NAMES[level], since: status.since, statusPage: CAPABILITIES[level].statusPage, message: STATUS_MESSAGES[level] };
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function statusPageHtml(p: StatusPage): string {
  const colour = ['#2e7d32', '#9e9d24', '#ef6c00', '#d84315', '#b71c1c'][p.level];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Vigil status: L${p.level} ${escape(p.levelName)}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1 style="color:${colour}">L${p.level} · ${escape(p.levelName.replace(/_/g, ' '))}</h1>
<p>${escape(p.message)}</p>
<p><small>since <time datetime="${new Date(p.since).toISOString()}">${new Date(p.since).toISOString()}</time></small></p>
</body></html>
`;
}

const pageSchema = {
  type: 'object',
  required: ['level', 'levelName', 'since', 'statusPage', 'message'],
  properties: {
    level: { type: 'integer', minimum: 0, maximum: 4 },
    levelName: { type: 'string' },
    since: { type: 'integer' },
    statusPage: { type: 'boolean' },
    message: { type: 'string' },
  },
} as const;

export function statusPageRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/status', {
    config: { auth: 'public' },
    schema: { summary: 'Public status page: the degradation level and what it means (JSON, or HTML with Accept: text/html)', response: { 200: pageSchema } },
  }, async (request, reply) => {
    const page = statusPage(engine.status());
    const accept = request.headers.accept ?? '';
    if (/text\/html/.test(accept) && !/application\/json/.test(accept)) {
      return reply.type('text/html; charset=utf-8').serializer((x: unknown) => String(x)).send(statusPageHtml(page));
    }
    return page;
  });
}
