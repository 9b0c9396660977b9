// API keys: only their sha256 hashes are configured; a presented key is hashed and
// looked up. A lookup by hash leaks nothing useful through timing (the caller does not
// control the hash), and the admin hash is compared in constant time anyway.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { VigilConfig } from '../cluster/index.ts';

/** sha256 hex of an API key, as the config file stores it. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export type Caller = { kind: 'tenant'; tenant: string } | { kind: 'admin' };

export class KeyRing {
  private readonly tenants = new Map<string, string>();
  private readonly admin: Buffer | undefined;

  constructor(config: Pick<VigilConfig, 'auth' | 'tenants'>) {
    for (const t of config.tenants) for (const h of t.keyHashes) this.tenants.set(h.toLowerCase(), t.id);
    this.admin = config.auth.adminKeyHash ? Buffer.from(config.auth.adminKeyHash.toLowerCase(), 'hex') : undefined;
  }

  /** The caller a key belongs to, or undefined for an unknown key. */
  resolve(key: string): Caller | undefined {
    const hash = hashKey(key);
    const tenant = this.tenants.get(hash);
    if (tenant !== undefined) return { kind: 'tenant', tenant };
    if (this.admin && this.admin.length === 32 && timingSafeEqual(this.admin, Buffer.from(hash, 'hex'))) return { kind: 'admin' };
    return undefined;
  }
}

/** The key in `Authorization: Bearer <key>`, or undefined. */
export function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}
