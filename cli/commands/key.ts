// `vigil key hash <key>`: the sha256 hex a config file stores instead of the key itself.
// `vigil key new`: a fresh random key and its hash. `vigil key rotate <tenant>`: asks a
// running node for a new key of a tenant; the old keys keep working for the overlap.
import { randomBytes } from 'node:crypto';
import { hashKey } from '../../protocols/keys.ts';
import { call } from '../admin-client.ts';
import { duration, parse, showHelp, str, usageError } from '../args.ts';
import { DEFAULT_URL } from './ctl.ts';

export const KEY_HELP = `Usage: vigil key hash <key> | vigil key new | vigil key rotate <tenant> [options]

Commands:
  hash <key>          prints the sha256 hex hash of an API key, for a tenant's keys in
                      config/tenants.yaml (keys[].sha256), tenants[].keyHashes or
                      auth.adminKeyHash in vigil.yaml (keys are never stored in the clear)
  new                 prints a new random key (256 bits) and its hash
  rotate <tenant>     asks a running node for a new key of the tenant (printed once) and
                      ends its other keys after the overlap; both work until then
    --overlap DUR     how long the old keys keep working (default 24h; e.g. 90s, 30m, 7d)
    --key-id NAME     a name for the new key (default key-<time>)
    --url URL         the node (default ${DEFAULT_URL})
    --admin-key KEY   the admin key (default: VIGIL_ADMIN_API_KEY)
`;

export async function keyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    if (sub === undefined) throw usageError('vigil key', 'missing command: hash, new or rotate');
    return showHelp(KEY_HELP);
  }
  if (sub === 'hash') {
    const p = parse('vigil key hash', rest, {}, 1);
    if (p.values.help) return showHelp(KEY_HELP);
    const key = p.positionals[0];
    if (!key) throw usageError('vigil key hash', 'missing the key to hash');
    process.stdout.write(`${hashKey(key)}\n`);
    return 0;
  }
  if (sub === 'new') {
    const p = parse('vigil key new', rest, {});
    if (p.values.help) return showHelp(KEY_HELP);
    const key = `vk_${randomBytes(32).toString('base64url')}`;
    process.stdout.write(`key:    ${key}\nsha256: ${hashKey(key)}\n`);
    return 0;
  }
  if (sub === 'rotate') return rotate(rest);
  throw usageError('vigil key', `unknown command "${sub}" (known: hash, new, rotate)`);
}

async function rotate(argv: string[]): Promise<number> {
  const cmd = 'vigil key rotate';
  const p = parse(cmd, argv, { overlap: { type: 'string' }, 'key-id': { type: 'string' }, url: { type: 'string' }, 'admin-key': { type: 'string' } }, 1);
  if (p.values.help) return showHelp(KEY_HELP);
  const tenant = p.positionals[0];
  if (!tenant) throw usageError(cmd, 'missing the tenant');
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(tenant)) throw usageError(cmd, `"${tenant}" is not a tenant id`);
  const url = str(p, 'url') ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw usageError(cmd, `--url must be an http(s) URL (got "${url}")`);
  const adminKey = str(p, 'admin-key') ?? process.env.VIGIL_ADMIN_API_KEY;
  if (!adminKey) throw usageError(cmd, 'no admin key: pass --admin-key or set VIGIL_ADMIN_API_KEY');
  const overlapMs = duration(cmd, p, 'overlap');
  const keyId = str(p, 'key-id');
  const body = { ...(overlapMs === undefined ? {} : { overlapMs }), ...(keyId === undefined ? {} : { keyId }) };
  const r = await call({ url, adminKey }, 'POST', `/v1/admin/tenants/${tenant}/keys`, body) as { keyId: string; key: string; oldKeysExpireAt: string };
  process.stdout.write(`tenant:  ${tenant}\nkey id:  ${r.keyId}\nkey:     ${r.key}\nold keys stop working at ${r.oldKeysExpireAt}\n`);
  return 0;
}
