// Cluster mode: a tenant's reads and commands are answered by the node that holds its shard.
// Only the owner runs the tenant's correlator (incident status, silences, the Alertmanager
// intake) and stores what its actors produce, so a request that lands on another node is sent
// on to the owner over NATS request/reply, and the owner answers it from its own engine. One
// hop only: the owner never sends a routed call on, so a call cannot go round in circles.
import type { Engine } from '../api/index.ts';
import { VigilError, type ErrorCode } from '../protocols/index.ts';

/** Engine methods that name a tenant first and are answered by its shard's owner. */
export const OWNER_METHODS = [
  'series', 'scoredSamples', 'anomalies', 'alerts', 'incidents', 'incident', 'incidentRca', 'setIncidentStatus', 'putTopology', 'getTopology',
] as const;
/** The same, for the correlation desk (engine.correlation). */
export const DESK_METHODS = ['receiveAlerts', 'liveAlerts', 'silences', 'silence', 'putSilence', 'expireSilence'] as const;
/**
 * The same, for runbook runs (engine.automation): a run lives on the node whose incident
 * started it. Runbook definitions are not routed: every node holds every tenant's (NATS KV).
 */
export const RUN_METHODS = ['runs', 'run', 'approve', 'cancel', 'start', 'status'] as const;

const METHODS: Record<OwnerCall['desk'], readonly string[]> = { engine: OWNER_METHODS, correlation: DESK_METHODS, automation: RUN_METHODS };

/** A routed call as it travels: JSON. */
export interface OwnerCall {
  desk: 'engine' | 'correlation' | 'automation';
  method: string;
  tenant: string;
  args: unknown[];
}

export type OwnerAnswer = { ok: true; value?: unknown } | { ok: false; code: ErrorCode; message: string };

/** How long a routed call waits for the owner's answer. */
export const DEFAULT_OWNER_CALL_TIMEOUT_MS = 20_000;

/** What the route needs of the cluster (node/cluster-mode.ts). */
export interface OwnerLink {
  /** HERE when this node holds the tenant's shard; another node's id; undefined between owners */
  ownerOf(tenant: string): typeof HERE | string | undefined;
  /** sends `call` to `node`; rejects when nobody answers */
  ask(node: string, call: OwnerCall, timeoutMs: number): Promise<OwnerAnswer>;
}

/** "This node owns it" (a symbol: no node id can be mistaken for it). */
export const HERE: unique symbol = Symbol('here');

/**
 * The engine the gateway is given in cluster mode: tenant-scoped methods go to the owner
 * when it is another node; everything else (ingest, the node's own status and admin, the
 * live stream) is this node's engine's.
 */
export function ownerRouted(local: Engine, link: OwnerLink, timeoutMs = DEFAULT_OWNER_CALL_TIMEOUT_MS): Engine {
  const route = async (desk: OwnerCall['desk'], method: string, tenant: string, args: unknown[], here: () => Promise<unknown>): Promise<unknown> => {
    const owner = link.ownerOf(tenant);
    if (owner === HERE) return here();
    if (owner === undefined) throw new VigilError('UNAVAILABLE', `tenant ${tenant}: its shard is between owners (a hand-off or failover); try again in a few seconds`);
    let answer: OwnerAnswer;
    try {
      answer = await link.ask(owner, { desk, method, tenant, args }, timeoutMs);
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `tenant ${tenant}: its owner ${owner} did not answer; try again`, { cause: err });
    }
    if (!answer.ok) throw new VigilError(answer.code, answer.message);
    return answer.value;
  };
  /** `desk` with each method named for it routed; the rest (and `this`) stay the local desk's */
  const routedDesk = <T extends object>(name: OwnerCall['desk'], desk: T): T => {
    const out = Object.create(desk) as T;
    const own = out as unknown as Record<string, unknown>;
    for (const m of METHODS[name]) {
      const fn = (desk as Record<string, unknown>)[m] as ((tenant: string, ...args: unknown[]) => unknown) | undefined;
      if (typeof fn !== 'function') continue; // optional and absent here (scoredSamples): absent when routed too
      own[m] = (tenant: string, ...args: unknown[]) => route(name, m, tenant, args, async () => fn.call(desk, tenant, ...args));
    }
    return out;
  };
  const routed = routedDesk('engine', local);
  Object.defineProperty(routed, 'correlation', { value: routedDesk('correlation', local.correlation) });
  if (local.automation) Object.defineProperty(routed, 'automation', { value: routedDesk('automation', local.automation) });
  return routed;
}

/** The owner's side: answers a routed call from this node's own engine (never routing it on). */
export async function answerOwnerCall(local: Engine, raw: unknown): Promise<OwnerAnswer> {
  try {
    const call = parseCall(raw);
    const target = (call.desk === 'engine' ? local : call.desk === 'correlation' ? local.correlation : local.automation) as unknown as Record<string, unknown> | undefined;
    if (!target) throw new VigilError('UNAVAILABLE', `the owner serves no ${call.desk}`);
    const fn = target[call.method] as ((tenant: string, ...args: unknown[]) => Promise<unknown>) | undefined;
    if (typeof fn !== 'function') throw new VigilError('NOT_FOUND', `${call.method}: not served by this node`);
    const value = await fn.call(target, call.tenant, ...call.args);
    return value === undefined ? { ok: true } : { ok: true, value };
  } catch (err) {
    if (err instanceof VigilError) return { ok: false, code: err.code, message: err.message };
    return { ok: false, code: 'INTERNAL', message: `the owner failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function parseCall(raw: unknown): OwnerCall {
  const c = raw as Partial<OwnerCall> | null;
  const methods: readonly string[] = c && typeof c.desk === 'string' && Object.hasOwn(METHODS, c.desk) ? METHODS[c.desk] : [];
  if (!c || typeof c.method !== 'string' || !methods.includes(c.method) || typeof c.tenant !== 'string' || !Array.isArray(c.args)) {
    throw new VigilError('BAD_REQUEST', 'not a routed call (desk, method, tenant, args)');
  }
  return c as OwnerCall;
}

/** A routed answer as it comes back over the wire. */
export function parseAnswer(raw: unknown): OwnerAnswer {
  const a = raw as Partial<{ ok: boolean; value: unknown; code: ErrorCode; message: string }> | null;
  if (a?.ok === true) return 'value' in a ? { ok: true, value: a.value } : { ok: true };
  if (a?.ok === false && typeof a.code === 'string' && typeof a.message === 'string') return { ok: false, code: a.code, message: a.message };
  return { ok: false, code: 'INTERNAL', message: 'the owner sent an answer this node cannot read' };
}
