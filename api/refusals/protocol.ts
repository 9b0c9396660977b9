// What the gateway and its refusal process say to each other over the IPC channel.

/** The refusal process's settings: its first argument, as JSON. */
export interface RefusalSettings {
  /** the Unix socket on which the gateway takes the requests the process does not refuse */
  forwardPath: string;
  /** the ingest routes' paths (POST only) */
  paths: string[];
  /** those whose batches it may count (JSON or protobuf MetricBatch) and refuse by their size */
  sizedPaths: string[];
  /** SCHED_IDLE and nice 19 (true), or nice 19 in the normal class: after one was starved and could not be raised (front.ts) */
  idle: boolean;
  /** also off the host's first CPU, which `vigil cluster up --gateway-cpu` keeps for gateways (http.refusalOffFirstCpu) */
  offFirstCpu: boolean;
  /** the largest body the gateway reads; a larger one is passed to it unread, for its 413 */
  bodyLimitBytes: number;
  /** the gateway's own limits on a client, so a connection is held to the same ones here */
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  checkIntervalMs: number;
}

import type { BlockNote, BucketNews } from '../tenancy/quotas.ts';

/** The process tells the gateway it is alive this often: a gateway that stops hearing it knows it gets no CPU (front.ts). */
export const HEARTBEAT_MS = 250;

export type { BlockNote };

export type ToRefusals =
  /** with a socket: a new connection whose first request is `tenant`'s, by the key whose sha256 is `keyHash`; `head` the bytes already read (base64) */
  | { kind: 'connection'; head: string; keyHash: string; block: BlockNote }
  /** a block, a bound on a tenant's tokens (api/tenancy/token-bound.ts), or every one forgotten (a tenant's quota changed) */
  | BucketNews
  /** the tenants' keys changed: every connection's key is checked by the gateway again */
  | { kind: 'keys' }
  | { kind: 'stop' };

/** One refusal: the tenant, the route, how long it took (s), its request id, its batch's samples (0: not counted, the bucket known empty). */
export type RefusalNote = [tenant: string, route: string, seconds: number, requestId: string, samples: number];

export type FromRefusals =
  | { kind: 'ready' }
  /** every HEARTBEAT_MS: the process gets CPU */
  | { kind: 'alive' }
  | { kind: 'refused'; refusals: RefusalNote[] };
