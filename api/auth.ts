// Authentication runs in onRequest, before the body is read, so an unknown caller costs
// no parsing. Each route declares who may call it in its config (`auth`); the resolved
// tenant is put on the request and every tenant route passes it to the engine.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../protocols/index.ts';
import { bearerKey, hashKey, type Caller, type KeyRing } from './keys.ts';

/** 'any': a tenant key or the admin key (GET /v1/status). */
export type Access = 'public' | 'tenant' | 'admin' | 'any';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: Access;
  }
  interface FastifyRequest {
    /** The caller's tenant; '' on public and admin routes. */
    tenant: string;
    /** Who calls, for the audit log: 'admin', or `key:` and the first 12 hex digits of the key's sha256. */
    caller: string;
  }
}

/** Resolves the caller of a key or throws 401/403 for the route's access level. */
export function authorize(keys: KeyRing, key: string | undefined, access: Access): Caller | undefined {
  if (access === 'public') return undefined;
  if (key === undefined) throw new VigilError('UNAUTHORIZED', 'missing API key (Authorization: Bearer <key>)');
  const caller = keys.lookup(key);
  if (!caller) throw new VigilError('UNAUTHORIZED', 'unknown API key');
  if ('expiredAt' in caller) throw new VigilError('UNAUTHORIZED', `this API key expired at ${new Date(caller.expiredAt).toISOString()}; use its replacement`);
  if (access === 'admin' && caller.kind !== 'admin') throw new VigilError('FORBIDDEN', 'this route needs the admin key');
  if (access === 'tenant' && caller.kind !== 'tenant') throw new VigilError('FORBIDDEN', 'the admin key has no tenant; use a tenant key');
  return caller;
}

export function installAuth(app: FastifyInstance, keys: KeyRing): void {
  app.decorateRequest('tenant', '');
  app.decorateRequest('caller', '');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // Unmatched routes have no config: let the 404 handler answer.
    const access = request.routeOptions.config.auth ?? (request.routeOptions.url === undefined ? 'public' : 'tenant');
    const key = bearerKey(request.headers.authorization);
    const caller = authorize(keys, key, access);
    if (caller) request.caller = caller.kind === 'admin' ? 'admin' : `key:${hashKey(key!).slice(0, 12)}`;
    if (caller?.kind === 'tenant') {
      request.tenant = caller.tenant;
      request.log = request.log.child({ tenant: caller.tenant });
    }
  });
}
