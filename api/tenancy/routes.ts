// The tenant admin API (admin key) and GET /v1/usage (a tenant's own figures, tenant key).
// Bodies are checked by the tenants schema (schema.ts), so a refusal names the exact place,
// as it does for the file: `body: tenants[0].keys[1].expiresAt must be a time ...`.
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../../protocols/schemas.ts';
import { VigilError } from '../../protocols/index.ts';
import type { QuotaGate } from './quotas.ts';
import { checkTenantBody, checkTenantsDocument } from './schema.ts';
import { bucketOf, toDocument, type TenantSpec } from './spec.ts';
import { DEFAULT_ROTATION_OVERLAP_MS, type Tenancy } from './tenancy.ts';
import { nodeUsage, summedUsage, type NodeUsage } from './usage.ts';

export interface TenancyRouteDeps {
  tenancy: Tenancy;
  quotas?: QuotaGate;
  /** series and services a tenant holds on this node */
  held?: (tenant: string) => { series: number; services: number };
  /** the node's default limits (limits section) */
  limits: { maxSeriesPerTenant: number; maxServicesPerTenant: number };
  /** this node's id (GET /v1/usage names it) */
  node?: string;
  /**
   * Cluster mode: the tenant's use of every live node, this one included, gathered for
   * GET /v1/usage; undefined when they could not be asked (the answer is then this node's).
   */
  usageAcross?: (tenant: string) => Promise<NodeUsage[] | undefined>;
}

const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'tenant id' } },
} as const;
const anyObject = { type: 'object', description: 'checked by the tenants schema (config/tenants.yaml documents every key)' } as const;
const MAX_OVERLAP_MS = 365 * 24 * 3600_000;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The rotation's body, which may be left out: `{"overlapMs"?, "keyId"?}`. */
function rotation(body: unknown): { overlapMs: number; keyId?: string } {
  if (body === undefined || body === null) return { overlapMs: DEFAULT_ROTATION_OVERLAP_MS };
  if (typeof body !== 'object' || Array.isArray(body)) throw new VigilError('BAD_REQUEST', 'body: must be an object {"overlapMs"?, "keyId"?} or empty');
  const { overlapMs, keyId, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new VigilError('BAD_REQUEST', `body: unknown field '${unknown}' (known: overlapMs, keyId)`);
  if (overlapMs !== undefined && !(Number.isInteger(overlapMs) && (overlapMs as number) >= 0 && (overlapMs as number) <= MAX_OVERLAP_MS)) {
    throw new VigilError('BAD_REQUEST', `body.overlapMs: must be an integer 0..${MAX_OVERLAP_MS} (ms the old keys keep working)`);
  }
  if (keyId !== undefined && !(typeof keyId === 'string' && KEY_NAME.test(keyId))) {
    throw new VigilError('BAD_REQUEST', 'body.keyId: must be a key name of letters, digits, ".", "_", ":" or "-" (1..64)');
  }
  return { overlapMs: (overlapMs as number | undefined) ?? DEFAULT_ROTATION_OVERLAP_MS, ...(keyId === undefined ? {} : { keyId: keyId as string }) };
}

export function tenancyRoutes(app: FastifyInstance, deps: TenancyRouteDeps): void {
  const { tenancy } = deps;
  const registry = tenancy.registry;
  const one = (spec: TenantSpec) => ({ tenant: toDocument(spec), source: registry.view(spec.id)?.source ?? 'tenants-file' });

  app.get('/v1/admin/tenants', {
    config: { auth: 'admin' },
    schema: { summary: 'Every tenant as configured (tenants file over node config), the file, the last reload error (admin key)', response: { '4xx': errorSchema } },
  }, async () => {
    const views = registry.list();
    return {
      file: tenancy.file ?? null,
      version: registry.version,
      lastReloadError: tenancy.lastReloadError ?? null,
      quotaMode: deps.quotas?.mode ?? 'off',
      tenants: views.map((v) => toDocument(v.spec)),
      sources: Object.fromEntries(views.map((v) => [v.spec.id, v.source])),
    };
  });

  app.put<{ Body: unknown }>('/v1/admin/tenants', {
    config: { auth: 'admin' },
    schema: { summary: 'Replace the tenants file\'s entries: {"tenants": [...]} (admin key)', body: anyObject, response: { '4xx': errorSchema } },
  }, async (request) => {
    const specs = checkTenantsDocument(request.body, 'body');
    const change = await tenancy.replaceAll(specs, request.caller);
    return {
      version: registry.version,
      added: change.added.map((s) => s.id), changed: change.changed.map((c) => c.after.id), removed: change.removed.map((s) => s.id),
    };
  });

  app.get<{ Params: { id: string } }>('/v1/admin/tenants/:id', {
    config: { auth: 'admin' },
    schema: { summary: 'One tenant as configured (admin key)', params: idParams, response: { '4xx': errorSchema } },
  }, async (request) => {
    const spec = registry.get(request.params.id);
    if (!spec) throw new VigilError('NOT_FOUND', `no tenant ${request.params.id}`);
    return one(spec);
  });

  app.put<{ Params: { id: string }; Body: unknown }>('/v1/admin/tenants/:id', {
    config: { auth: 'admin' },
    schema: { summary: 'Create or replace one tenant (admin key); 201 when new', params: idParams, body: anyObject, response: { '4xx': errorSchema } },
  }, async (request, reply) => {
    const spec = checkTenantBody(request.body, request.params.id);
    const { created } = await tenancy.put(spec, request.caller);
    return reply.code(created ? 201 : 200).send(one(spec));
  });

  app.delete<{ Params: { id: string } }>('/v1/admin/tenants/:id', {
    config: { auth: 'admin' },
    schema: { summary: 'Remove a tenant from the tenants file (admin key); 409 for a node-config tenant', params: idParams, response: { '4xx': errorSchema } },
  }, async (request) => {
    await tenancy.remove(request.params.id, request.caller);
    return { deleted: request.params.id, version: registry.version };
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/v1/admin/tenants/:id/keys', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Rotate: add a new key (returned once, in the clear) and end the other keys after overlapMs (admin key)',
      description: 'Body (optional): {"overlapMs": ms the old keys keep working (default 24 h), "keyId": a name for the new key}',
      params: idParams, response: { '4xx': errorSchema },
    },
  }, async (request, reply) => {
    const { overlapMs, keyId } = rotation(request.body);
    const r = await tenancy.rotateKey(request.params.id, overlapMs, request.caller, keyId);
    return reply.code(201).send({ ...r, oldKeysExpireAt: new Date(r.oldKeysExpireAt).toISOString() });
  });

  app.get('/v1/usage', {
    config: { auth: 'tenant' },
    schema: { summary: 'This tenant\'s quota and use: rate, counts and rejections over every node of a cluster (each node\'s in `nodes`), series and services on this node', response: { '4xx': errorSchema } },
  }, async (request) => {
    const tenant = request.tenant;
    const spec = registry.get(tenant);
    const bucket = spec ? bucketOf(spec) : undefined;
    const here = nodeUsage(deps, deps.node ?? 'local', tenant);
    const nodes = await deps.usageAcross?.(tenant);
    return {
      tenant,
      tier: spec?.tier ?? 'small',
      quota: bucket ? { rate: bucket.rate, burst: bucket.burst, mode: deps.quotas?.mode ?? 'off' } : null,
      ...summedUsage(nodes ?? [here]),
      series: { held: here.series, max: spec?.maxSeries ?? deps.limits.maxSeriesPerTenant },
      services: { held: here.services, max: spec?.maxServices ?? deps.limits.maxServicesPerTenant },
      ...(nodes ? { nodes } : {}),
    };
  });
}
