// An Alertmanager-compatible face (API v2), so a Prometheus can send its alerts here
// (`alerting.alertmanagers` with the tenant's key as bearer credentials) and amtool or
// Grafana's Alertmanager data source can read them: alerts join the tenant's correlator next
// to Vigil's own anomalies (deduplicated by fingerprint, grouped into incidents, silenced,
// inhibited). Routes: POST/GET /api/v2/alerts, GET/POST /api/v2/silences,
// GET/DELETE /api/v2/silence/:id, GET /api/v2/status, GET /api/v2/receivers. The tenant is
// the bearer key's; there is no Alertmanager routing tree: every alert's receiver is "vigil".
import type { FastifyInstance } from 'fastify';
import { errorSchema, idParamsSchema } from '../protocols/schemas.ts';
import { VigilError } from '../protocols/index.ts';
import { compileMatcher, compileMatchers, matchesAll, parseMatcher, type CompiledMatcher } from '../actors/correlation/index.ts';
import type { Engine } from './engine.ts';
import {
  alertsQuerySchema, externalAlerts, gettableAlert, gettableAlertsSchema, gettableSilence, gettableSilenceSchema, postableAlertsSchema,
  postableSilenceSchema, RECEIVER, silenceDraft, silencesQuerySchema, type PostableAlert, type PostableSilence,
} from './alertmanager-shapes.ts';

const amStatusSchema = {
  type: 'object',
  properties: {
    cluster: { type: 'object', properties: { status: { type: 'string' }, peers: { type: 'array', items: { type: 'object' } } } },
    versionInfo: { type: 'object', additionalProperties: { type: 'string' } },
    config: { type: 'object', properties: { original: { type: 'string' } } },
    uptime: { type: 'string' },
  },
} as const;

interface AlertsQuery {
  active?: string;
  silenced?: string;
  inhibited?: string;
  unprocessed?: string;
  filter?: string | string[];
  receiver?: string;
}

/** `filter` query values (one or repeated) as compiled matchers; BAD_REQUEST naming the bad one. */
function filterOf(raw: string | string[] | undefined): CompiledMatcher[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return compileMatchers(list.map((t) => parseMatcher(t.replace(/^\{|\}$/g, ''))), 'filter');
}

export function alertmanagerRoutes(app: FastifyInstance, engine: Engine): void {
  app.post<{ Body: PostableAlert[] }>('/api/v2/alerts', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'Alertmanager API v2: alerts in (a Prometheus sends here); they join the tenant\'s correlator',
      body: postableAlertsSchema, response: { 200: { description: 'taken', type: 'null' }, '4xx': errorSchema },
    },
  }, async (request, reply) => {
    const r = await engine.correlation.receiveAlerts(request.tenant, externalAlerts(request.body));
    if (r.refused > 0) throw new VigilError('QUOTA_EXCEEDED', `${r.refused} of ${r.refused + r.accepted} alerts refused: the tenant holds as many live alerts as correlation.maxAlerts allows`);
    return reply.code(200).send();
  });

  app.get<{ Querystring: AlertsQuery }>('/api/v2/alerts', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: the tenant\'s live alerts (from Prometheus and from Vigil\'s anomalies)', querystring: alertsQuerySchema, response: { 200: gettableAlertsSchema, '4xx': errorSchema } },
  }, async (request) => {
    const q = request.query;
    const matchers = filterOf(q.filter);
    const want = (flag: string | undefined): boolean => flag !== 'false';
    // `receiver` is a regex in Alertmanager; every alert here has the one receiver
    if (q.receiver !== undefined && !compileMatcher({ name: 'receiver', value: q.receiver, isRegex: true, isEqual: true }, 'receiver').test({ receiver: RECEIVER })) return [];
    const views = await engine.correlation.liveAlerts(request.tenant);
    return views.filter((v) => {
      if (!matchesAll(matchers, v.labels)) return false;
      if (v.state === 'active') return want(q.active);
      return (v.silencedBy.length > 0 && want(q.silenced)) || (v.inhibitedBy.length > 0 && want(q.inhibited));
    }).map(gettableAlert);
  });

  app.get<{ Querystring: { filter?: string | string[] } }>('/api/v2/silences', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: the tenant\'s silences', querystring: silencesQuerySchema, response: { 200: { type: 'array', items: gettableSilenceSchema }, '4xx': errorSchema } },
  }, async (request) => {
    const matchers = filterOf(request.query.filter);
    const list = await engine.correlation.silences(request.tenant);
    // as Alertmanager: a silence passes the filter when its own matchers, read as labels, match it
    return list.filter((s) => matchesAll(matchers, Object.fromEntries(s.matchers.map((m) => [m.name, m.value])))).map(gettableSilence);
  });

  app.post<{ Body: PostableSilence }>('/api/v2/silences', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: create or change a silence', body: postableSilenceSchema, response: { 200: { type: 'object', properties: { silenceID: { type: 'string' } } }, '4xx': errorSchema } },
  }, async (request) => {
    const s = await engine.correlation.putSilence(request.tenant, silenceDraft(request.body), request.caller);
    return { silenceID: s.id };
  });

  app.get<{ Params: { id: string } }>('/api/v2/silence/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: one silence', params: idParamsSchema, response: { 200: gettableSilenceSchema, '4xx': errorSchema } },
  }, async (request) => {
    const s = await engine.correlation.silence(request.tenant, request.params.id);
    if (!s) throw new VigilError('NOT_FOUND', `silence ${request.params.id} not found`);
    return gettableSilence(s);
  });

  app.delete<{ Params: { id: string } }>('/api/v2/silence/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: expire a silence', params: idParamsSchema, response: { 200: { description: 'expired', type: 'null' }, '4xx': errorSchema } },
  }, async (request, reply) => {
    await engine.correlation.expireSilence(request.tenant, request.params.id, request.caller);
    return reply.code(200).send();
  });

  app.get('/api/v2/receivers', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: receivers (one: Vigil)', response: { 200: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } }, '4xx': errorSchema } },
  }, async () => [{ name: RECEIVER }]);

  app.get('/api/v2/status', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alertmanager API v2: status (what Grafana\'s data source checks)', response: { 200: amStatusSchema, '4xx': errorSchema } },
  }, async () => ({
    cluster: { status: 'disabled', peers: [] },
    versionInfo: { version: 'vigil', revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' },
    config: { original: '' },
    uptime: new Date(engine.now() - process.uptime() * 1000).toISOString(),
  }));
}
