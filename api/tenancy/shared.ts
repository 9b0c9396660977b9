// The tenants file a cluster's nodes share. An admin API change on one node is written here
// and every other node applies it as if its own file had been reloaded (checked whole; an
// invalid text keeps the old set and shows why as `lastReloadError`). The face only: cluster/
// holds the NATS KV one (cluster/shared-tenants.ts), wired by node/ in cluster mode.

/** One version of the shared text; `revision` grows with every write (KV revision). */
export interface SharedTenantsEntry {
  text: string;
  revision: number;
}

export interface SharedTenants {
  /** where it lives, for logs and errors (e.g. "NATS KV vigil_config/tenants") */
  readonly where: string;
  /** the latest text (undefined: nobody wrote one yet) */
  read(): Promise<SharedTenantsEntry | undefined>;
  /** writes a new text whatever the shared one is (a whole text meant to replace it); resolves with its revision */
  write(text: string): Promise<number>;
  /**
   * Writes `text` only if the shared text is still at `revision` (0: none written yet), so a
   * change made from one version never overwrites a change another node made meanwhile.
   * Resolves with the new revision, or undefined when another write came first.
   */
  replace(text: string, revision: number): Promise<number | undefined>;
  /** calls `onEntry` with every text written from now on (its own writes included), in order; returns how to stop */
  watch(onEntry: (entry: SharedTenantsEntry) => void): () => void;
}
