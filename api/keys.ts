// API keys: only their sha256 hashes are configured; a presented key is hashed, looked up
// by its hash, and the stored digest is compared with timingSafeEqual.
//
// Why sha256 and not scrypt: Vigil's keys are random (`vigil key new`: 256 bits), so there
// is nothing for a slow hash to protect against (no dictionary to try), while scrypt would
// cost tens of milliseconds of CPU on every request, and a salted hash could not be looked
// up by value (each request would try every key). A lookup by hash leaks nothing useful
// through timing: the caller controls the key, not its hash.
//
// The ring is reloaded whole when the tenants change (hot reload, admin API); a key past
// its `expiresAt` is refused, which is how a rotation's overlap window ends.
import { timingSafeEqual } from 'node:crypto';
import type { VigilConfig } from '../cluster/index.ts';
import { hashKey, SHA256_HEX, VigilError } from '../protocols/index.ts';

export { hashKey };

export type Caller = { kind: 'tenant'; tenant: string } | { kind: 'admin' };

/** One tenant key as the ring holds it. */
export interface KeyEntry {
  tenant: string;
  sha256: string;
  /** ms since the epoch after which the key is refused */
  expiresAt?: number;
}

interface Held {
  tenant: string;
  digest: Buffer;
  expiresAt: number;
}

export class KeyRing {
  private tenants = new Map<string, Held>();
  private admin: Buffer | undefined;

  /** Throws CONFIG_INVALID when a key hash is malformed or would belong to two callers. */
  constructor(config: Pick<VigilConfig, 'auth' | 'tenants'>, private readonly now: () => number = Date.now) {
    this.load(config.auth.adminKeyHash, config.tenants.flatMap((t) => t.keyHashes.map((sha256) => ({ tenant: t.id, sha256 }))));
  }

  /**
   * Replaces every key at once, or throws CONFIG_INVALID and keeps the keys it had: a
   * malformed hash, a key of two tenants, or a tenant key equal to the admin key.
   */
  load(adminKeyHash: string | undefined, entries: readonly KeyEntry[]): void {
    const admin = adminKeyHash?.toLowerCase();
    if (admin !== undefined && !SHA256_HEX.test(admin)) throw new VigilError('CONFIG_INVALID', 'auth.adminKeyHash is not a sha256 hex digest');
    const tenants = new Map<string, Held>();
    for (const e of entries) {
      const h = e.sha256.toLowerCase();
      if (!SHA256_HEX.test(h)) throw new VigilError('CONFIG_INVALID', `tenant ${e.tenant}: key hash "${e.sha256}" is not a sha256 hex digest`);
      // One key, one caller: a shared key would let one tenant read another's data.
      const owner = tenants.get(h)?.tenant;
      if (owner !== undefined && owner !== e.tenant) throw new VigilError('CONFIG_INVALID', `tenants ${owner} and ${e.tenant} share an API key`);
      if (h === admin) throw new VigilError('CONFIG_INVALID', `tenant ${e.tenant} uses the admin key`);
      const expiresAt = Math.max(tenants.get(h)?.expiresAt ?? -Infinity, e.expiresAt ?? Infinity);
      tenants.set(h, { tenant: e.tenant, digest: Buffer.from(h, 'hex'), expiresAt });
    }
    this.tenants = tenants;
    this.admin = admin !== undefined ? Buffer.from(admin, 'hex') : undefined;
  }

  /** The caller a key belongs to, or undefined for an unknown or expired key. */
  resolve(key: string): Caller | undefined {
    const r = this.lookup(key);
    return r && 'expiredAt' in r ? undefined : r;
  }

  /** Like resolve, but an expired tenant key says when it expired (so its holder learns why). */
  lookup(key: string): Caller | { expiredAt: number } | undefined {
    const hash = hashKey(key);
    const digest = Buffer.from(hash, 'hex');
    const held = this.tenants.get(hash);
    if (held !== undefined && timingSafeEqual(held.digest, digest)) {
      if (this.now() >= held.expiresAt) return { expiredAt: held.expiresAt };
      return { kind: 'tenant', tenant: held.tenant };
    }
    if (this.admin && timingSafeEqual(this.admin, digest)) return { kind: 'admin' };
    return undefined;
  }
}

/** The key in `Authorization: Bearer <key>`, or undefined. */
export function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}
