// The dashboard (web/) at `/`: index.html, its ES modules and stylesheet under /web/, and
// uPlot's files from node_modules under /vendor/uplot/, so the page works offline (no CDN).
// Public: the files hold no data; the page asks for an API key and then uses the same
// authenticated API as any client. Files are read once at start and named by a fixed map
// built from the web/ folder, so no request path ever reaches the file system.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../protocols/index.ts';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// Scripts only from this origin, never inline: an escaped-too-little string in the page
// cannot run. Inline style attributes stay allowed (uPlot sizes its elements with them).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset { body: Buffer; type: string; etag: string }

function asset(path: string): Asset {
  const body = readFileSync(path);
  return { body, type: TYPES[extname(path)]!, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

/** web/*.js and web/*.css by file name. */
function webAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(WEB)) {
    const ext = extname(name);
    if (ext === '.js' || ext === '.css') out.set(name, asset(join(WEB, name)));
  }
  return out;
}

/** uPlot's ES module and stylesheet; none when the package is not installed (the page then says plots are not available). */
function uplotAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  let dist: string;
  try {
    dist = dirname(createRequire(import.meta.url).resolve('uplot'));
  } catch {
    return out;
  }
  for (const name of ['uPlot.esm.js', 'uPlot.min.css']) out.set(name, asset(join(dist, name)));
  return out;
}

function send(request: FastifyRequest, reply: FastifyReply, a: Asset | undefined): FastifyReply {
  if (!a) throw new VigilError('NOT_FOUND', `no file ${request.url.split('?')[0]}`);
  // no-cache: revalidate every time (the ETag makes that a 304), so an upgraded node never serves a stale module
  reply.header('cache-control', 'no-cache').header('etag', a.etag).header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.type(a.type).send(a.body);
}

const hidden = { hide: true } as object;

export function dashboardRoutes(app: FastifyInstance): void {
  const page = asset(join(WEB, 'index.html'));
  const web = webAssets();
  const vendor = uplotAssets();
  app.get('/', { config: { auth: 'public' }, schema: { summary: 'Dashboard (HTML)', ...hidden } },
    async (request, reply) => send(request, reply.header('content-security-policy', CSP), page));
  app.get<{ Params: { file: string } }>('/web/:file', { config: { auth: 'public' }, schema: { summary: 'Dashboard module or stylesheet', ...hidden } },
    async (request, reply) => send(request, reply, web.get(request.params.file)));
  app.get<{ Params: { file: string } }>('/vendor/uplot/:file', { config: { auth: 'public' }, schema: { summary: 'uPlot (charting library of the dashboard)', ...hidden } },
    async (request, reply) => send(request, reply, vendor.get(request.params.file)));
}
