// `vigil key hash <key>`: the sha256 hex a config file stores instead of the key itself.
import { hashKey } from '../../cluster/config-load.ts';
import { parse, showHelp, usageError } from '../args.ts';

export const KEY_HELP = `Usage: vigil key hash <key>

Prints the sha256 hex hash of an API key, for tenants[].keyHashes or auth.adminKeyHash
in the configuration file (keys are never stored in the clear).
`;

export function keyCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    if (sub === undefined) throw usageError('vigil key', 'missing command: hash');
    return showHelp(KEY_HELP);
  }
  if (sub !== 'hash') throw usageError('vigil key', `unknown command "${sub}" (known: hash)`);
  const p = parse('vigil key hash', rest, {}, 1);
  if (p.values.help) return showHelp(KEY_HELP);
  const key = p.positionals[0];
  if (!key) throw usageError('vigil key hash', 'missing the key to hash');
  process.stdout.write(`${hashKey(key)}\n`);
  return 0;
}
