// Runbooks over HTTP. Admin key: a tenant's runbooks (CRUD), as YAML (application/yaml, the
// form config/runbooks.example.yaml documents) or the same shape as JSON; a refusal names the
// place and line (`runbook restart-db: steps[2].webhook.url must be ... (line 14)`). Tenant
// key: its runbooks (read), its runs (list, one, start by hand, approve, cancel) and its
// automation's state. A tenant only ever reaches its own runs: another tenant's id is 404.
import type { FastifyInstance } from 'fastify';
import { errorSchema, MAX_PAGE_LIMIT } from '../protocols/schemas.ts';
import { VigilError, type RunbookRunStatus } from '../protocols/index.ts';
import type { Engine } from './engine.ts';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const RUN_STATUSES: readonly RunbookRunStatus[] = ['running', 'waiting', 'awaiting_approval', 'queued', 'suggested', 'succeeded', 'failed', 'cancelled'];
const ID = '^[a-z0-9][a-z0-9_-]{0,62}$';
const RUN_ID = '^run_[0-9a-f]{16}$';
const INCIDENT_ID = '^[A-Za-z0-9_.:-]{1,128}$';

const tenantParams = {
  type: 'object', additionalProperties: false, required: ['id'],
  properties: { id: { type: 'string', pattern: ID, description: 'tenant id' } },
} as const;
const runbookParams = {
  type: 'object', additionalProperties: false, required: ['id', 'runbook'],
  properties: { id: { type: 'string', pattern: ID, description: 'tenant id' }, runbook: { type: 'string', pattern: ID, description: 'runbook id' } },
} as const;
const runParams = {
  type: 'object', additionalProperties: false, required: ['id'],
  properties: { id: { type: 'string', pattern: RUN_ID, description: 'run id' } },
} as const;
const runsQuery = {
  type: 'object', additionalProperties: false,
  properties: {
    status: { type: 'string', enum: RUN_STATUSES },
    incident: { type: 'string', pattern: INCIDENT_ID, description: 'runs for this incident' },
    runbook: { type: 'string', pattern: ID, description: 'runs of this runbook' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: `1..${MAX_PAGE_LIMIT} (default 100)` },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;
const startBody = {
  type: 'object', additionalProperties: false, required: ['runbook', 'incident'],
  properties: {
    runbook: { type: 'string', pattern: ID },
    incident: { type: 'string', pattern: INCIDENT_ID },
    dryRun: { type: 'boolean', description: 'only record what it would send (default: the runbook\'s own dryRun)' },
  },
} as const;

const open = (description: string) => ({ type: 'object', additionalProperties: true, description }) as const;
const runSchema = open('a runbook run: id, runbookId, incidentId, status, steps [{id, kind, status, request, response, ...}], reason');
const summarySchema = open('a runbook: id, name, enabled, dryRun, version, updatedAt, steps (count), trigger');

function automationOf(engine: Engine): NonNullable<Engine['automation']> {
  if (!engine.automation) throw new VigilError('UNAVAILABLE', 'runbook automation is not running on this node');
  return engine.automation;
}

export function runbookRoutes(app: FastifyInstance, engine: Engine): void {
  // YAML bodies only here (a plugin's scope): no other route takes them
  void app.register(async (scoped) => {
    scoped.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, { yaml: body as string }));
    adminRoutes(scoped, engine);
  });
  tenantRoutes(app, engine);
}

/** A body as the automation takes it: YAML text, or a JSON value. */
function bodyOf(body: unknown): { yaml: string } | { json: unknown } {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 1 && typeof (body as { yaml?: unknown }).yaml === 'string') {
    return { yaml: (body as { yaml: string }).yaml };
  }
  if (body === undefined) throw new VigilError('BAD_REQUEST', 'body is empty: send the runbook as YAML (content-type: application/yaml) or JSON');
  return { json: body };
}

function adminRoutes(app: FastifyInstance, engine: Engine): void {
  type TenantP = { Params: { id: string } };
  type RunbookP = { Params: { id: string; runbook: string } };

  app.get<TenantP>('/v1/admin/tenants/:id/runbooks', {
    config: { auth: 'admin' },
    schema: { summary: 'A tenant\'s runbooks (admin key)', params: tenantParams, response: { 200: open('{runbooks: [...]}'), '4xx': errorSchema } },
  }, async (request) => ({ runbooks: automationOf(engine).listRunbooks(request.params.id) }));

  app.put<TenantP & { Body: unknown }>('/v1/admin/tenants/:id/runbooks', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Replace a tenant\'s whole set of runbooks from one YAML text of several documents (admin key); all or nothing',
      params: tenantParams, response: { 200: open('{runbooks: [...]}'), '4xx': errorSchema },
    },
  }, async (request) => {
    const body = bodyOf(request.body);
    if (!('yaml' in body)) throw new VigilError('UNSUPPORTED_MEDIA_TYPE', 'send the runbooks as YAML documents (content-type: application/yaml), separated by ---');
    const a = automationOf(engine);
    await a.replaceRunbooks(request.params.id, body.yaml, request.caller);
    return { runbooks: await a.listRunbooks(request.params.id) };
  });

  app.get<RunbookP>('/v1/admin/tenants/:id/runbooks/:runbook', {
    config: { auth: 'admin' },
    schema: { summary: 'One runbook, with its YAML source (admin key)', params: runbookParams, response: { 200: summarySchema, '4xx': errorSchema } },
  }, async (request) => {
    const a = automationOf(engine);
    const rb = await a.getRunbook(request.params.id, request.params.runbook);
    if (!rb) throw new VigilError('NOT_FOUND', `tenant ${request.params.id} has no runbook ${request.params.runbook}`);
    const summary = (await a.listRunbooks(request.params.id)).find((s) => s.id === rb.id)!;
    return { ...summary, source: rb.source };
  });

  app.put<RunbookP & { Body: unknown }>('/v1/admin/tenants/:id/runbooks/:runbook', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Create or replace one runbook (admin key): 201 created, 200 replaced; every URL must be among the tenant\'s allowed webhook destinations',
      params: runbookParams, response: { 200: summarySchema, 201: summarySchema, '4xx': errorSchema },
    },
  }, async (request, reply) => {
    const { id: tenant, runbook } = request.params;
    const a = automationOf(engine);
    const { created } = await a.putRunbook(tenant, runbook, bodyOf(request.body), request.caller);
    return reply.code(created ? 201 : 200).send((await a.listRunbooks(tenant)).find((s) => s.id === runbook));
  });

  app.delete<RunbookP>('/v1/admin/tenants/:id/runbooks/:runbook', {
    config: { auth: 'admin' },
    schema: { summary: 'Delete a runbook (admin key); runs under way go on', params: runbookParams, response: { 200: open('{deleted: id}'), '4xx': errorSchema } },
  }, async (request) => {
    const { id: tenant, runbook } = request.params;
    if (!(await automationOf(engine).deleteRunbook(tenant, runbook, request.caller))) throw new VigilError('NOT_FOUND', `tenant ${tenant} has no runbook ${runbook}`);
    return { deleted: runbook };
  });
}

function tenantRoutes(app: FastifyInstance, engine: Engine): void {
  type RunP = { Params: { id: string } };

  app.get('/v1/runbooks', {
    config: { auth: 'tenant' },
    schema: { summary: 'The caller\'s runbooks (read only; the admin key changes them)', response: { 200: open('{runbooks: [...]}'), '4xx': errorSchema } },
  }, async (request) => ({ runbooks: automationOf(engine).listRunbooks(request.tenant) }));

  app.get('/v1/automation', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'The caller\'s automation: the level (runbooks automatic at L0/L1, suggested at L2 and worse), its destinations\' breakers, runs queued behind them',
      response: { 200: open('{level, runbooks, breakers, queued, count}'), '4xx': errorSchema },
    },
  }, async (request) => automationOf(engine).status(request.tenant));

  app.get<{ Querystring: { status?: RunbookRunStatus; incident?: string; runbook?: string; limit?: string; cursor?: string } }>('/v1/runbook-runs', {
    config: { auth: 'tenant' },
    schema: { summary: 'The caller\'s runbook runs, newest first', querystring: runsQuery, response: { 200: open('{runs: [...], next?}'), '4xx': errorSchema } },
  }, async (request) => {
    const q = request.query;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > MAX_PAGE_LIMIT) throw new VigilError('BAD_REQUEST', `querystring.limit: must be between 1 and ${MAX_PAGE_LIMIT}`);
    const page = await automationOf(engine).runs(request.tenant, {
      limit, ...(q.status ? { status: q.status } : {}), ...(q.incident ? { incident: q.incident } : {}),
      ...(q.runbook ? { runbook: q.runbook } : {}), ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { runs: page.items, ...(page.next ? { next: page.next } : {}) };
  });

  app.get<RunP>('/v1/runbook-runs/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'One runbook run with its steps', params: runParams, response: { 200: runSchema, '4xx': errorSchema } },
  }, async (request) => {
    const run = await automationOf(engine).run(request.tenant, request.params.id);
    if (!run) throw new VigilError('NOT_FOUND', `runbook run ${request.params.id} not found`);
    return run;
  });

  app.post<{ Body: { runbook: string; incident: string; dryRun?: boolean } }>('/v1/runbook-runs', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'Start one of the caller\'s runbooks for one of its incidents by hand (dryRun: describe only); destructive steps still wait for an approve',
      body: startBody, response: { 201: runSchema, '4xx': errorSchema },
    },
  }, async (request, reply) => reply.code(201).send(await automationOf(engine).start(request.tenant, request.body, request.caller)));

  app.post<RunP>('/v1/runbook-runs/:id/approve', {
    config: { auth: 'tenant' },
    schema: { summary: 'Approve what a run waits for: its destructive step, or the run itself when it was only suggested', params: runParams, response: { 200: runSchema, '4xx': errorSchema } },
  }, async (request) => automationOf(engine).approve(request.tenant, request.params.id, request.caller));

  app.post<RunP>('/v1/runbook-runs/:id/cancel', {
    config: { auth: 'tenant' },
    schema: { summary: 'Cancel a run that has not ended (a request under way is dropped)', params: runParams, response: { 200: runSchema, '4xx': errorSchema } },
  }, async (request) => automationOf(engine).cancel(request.tenant, request.params.id, request.caller));
}
