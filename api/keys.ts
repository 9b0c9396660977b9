// API keys: only their sha256 hashes are configured; a presented key is hashed and
// looked up. A lookup by hash leaks nothing useful through timing (the caller does not
// control the hash), and the admin hash is compared in constant time anyway.
import { timingSafeEqual } from 'node:crypto';
import type { VigilConfig } from '../cluster/index.ts';
import { hashKey, SHA256_HEX, VigilError } from '../protocols/index.ts';

export { hashKey };

export type Caller = { kind: 'tenant'; tenant: string } | { kind: 'admin' };

export class KeyRing {
  private readonly tenants = new Map<string, string>();
  private readonly admin: Buffer | undefined;

  /** Throws CONFIG_INVALID when a key hash is malformed or would belong to two callers. */
  constructor(config: Pick<VigilConfig, 'auth' | 'tenants'>) {
    const admin = config.auth.adminKeyHash?.toLowerCase();
    if (admin !== undefined && !SHA256_HEX.test(admin)) throw new VigilError('CONFIG_INVALID', 'auth.adminKeyHash is not a sha256 hex digest');
    for (const t of config.tenants) {
      for (const raw of t.keyHashes) {
        const h = raw.toLowerCase();
        if (!SHA256_HEX.test(h)) throw new VigilError('CONFIG_INVALID', `tenant ${t.id}: key hash "${raw}" is not a sha256 hex digest`);
        // One key, one caller: a shared key would let one tenant read another's data.
        const owner = this.tenants.get(h);
        if (owner !== undefined && owner !== t.id) throw new VigilError('CONFIG_INVALID', `tenants ${owner} and ${t.id} share an API key`);
        if (h === admin) throw new VigilError('CONFIG_INVALID', `tenant ${t.id} uses the admin key`);
        this.tenants.set(h, t.id);
      }
    }
    this.admin = admin !== undefined ? Buffer.from(admin, 'hex') : undefined;
  }

  /** The caller a key belongs to, or undefined for an unknown key. */
  resolve(key: string): Caller | undefined {
    const hash = hashKey(key);
    const tenant = this.tenants.get(hash);
    if (tenant !== undefined) return { kind: 'tenant', tenant };
    if (this.admin && timingSafeEqual(this.admin, Buffer.from(hash, 'hex'))) return { kind: 'admin' };
    return undefined;
  }
}

/** The key in `Authorization: Bearer <key>`, or undefined. */
export function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}
