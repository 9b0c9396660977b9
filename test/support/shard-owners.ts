// Waiting for a cluster's shards to be placed as a test expects, read from the leases in NATS.
import type { ClusterLink } from '../../cluster/index.ts';
import { eventually } from './api-client.ts';

/**
 * Resolves with the owners (shard → node) once each of the `shards` has one and `wrong` finds
 * nothing wrong with them (it returns what is wrong, or undefined); a timeout says what still was.
 */
export async function ownersWhen(link: ClusterLink, shards: number, wrong: (owners: Map<number, string>) => string | undefined, what: string, timeoutMs = 60_000): Promise<Map<number, string>> {
  let last = '';
  try {
    return await eventually(async () => {
      const owners = new Map([...(await link.owners())].map(([s, o]) => [s, o.node]));
      last = owners.size < shards ? `${shards - owners.size} shard(s) without an owner` : wrong(owners) ?? '';
      return last === '' ? owners : undefined;
    }, what, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${last}`, { cause: err });
  }
}
