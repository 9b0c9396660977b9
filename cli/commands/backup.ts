// `vigil backup create|list|restore`: a stopped node's data dir and configuration into a
// checksummed folder, and back (storage/backup).
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../cluster/config-load.ts';
import { createBackup, listBackups, restoreBackup } from '../../storage/backup/index.ts';
import type { BackupSummary } from '../../storage/backup/index.ts';
import { parse, showHelp, str, usageError } from '../args.ts';

export const BACKUP_HELP = `Usage: vigil backup <create|list|restore> [options]

Backs up a STOPPED node's data dir (time series, topology, audit log, detector snapshots,
ingest log, writer spill, silences, runbooks and their runs), its configuration file and
the tenants file it names into a new folder with a checksummed manifest, lists backups,
and restores one into an empty data dir.

  vigil backup create [--data DIR] [--config FILE] OUT
  vigil backup list DIR
  vigil backup restore BACKUP --data DIR [--config-out FILE] [--tenants-out FILE] [--force]

See vigil backup <command> --help. Errors print one line with exit status 2.
`;

export const CREATE_HELP = `Usage: vigil backup create [--data DIR] [--config FILE] [--node-id ID] OUT

Copies a stopped node's data dir into the new folder OUT: every tsdb table (exported in
ClickHouse's Native format, gzip'd), the graph, audit, snapshots, log, spill, silences and
automation folders, the configuration file and the tenants file it names (tenancy.file,
VIGIL_TENANTS_FILE), and manifest.json (sizes, sha256 of every file, rows per table).
A running node on DIR is refused (chdb locks its folder). OUT must not exist or be empty.

Options:
  --data DIR     the node's data dir (VIGIL_DATA, node.dataDir in the file; default .vigil-data)
  --config FILE  the node's YAML configuration (VIGIL_CONFIG), copied as it is
  --node-id ID   the node's id for the manifest (VIGIL_NODE_ID, node.id; default node-1)
  -h, --help     this help

Environment: CLICKHOUSE_URL reads the tables from that server instead of DIR/tsdb;
with MEMGRAPH_URL the topology is in Memgraph and is not in the backup.
Progress goes to stderr; the summary line to stdout.
`;

export const LIST_HELP = `Usage: vigil backup list [--json] DIR

Lists the backups in DIR (or DIR itself when it is one), oldest first: when made, node,
files, size, rows, parts. A folder with a missing or damaged manifest is listed with why.

Options:
  --json      one JSON array instead of the table
  -h, --help  this help
`;

export const RESTORE_HELP = `Usage: vigil backup restore BACKUP --data DIR [--config-out FILE] [--tenants-out FILE] [--force]

Checks every file of BACKUP against its manifest first (a damaged backup is refused, the
file named, before anything is written), then restores each part into DIR, which must be
absent or empty. The tsdb tables are checked again after the restore (rows and a content
fingerprint). The restored audit log gains one entry recording the restore.

Options:
  --data DIR         the data dir to restore into (required)
  --config-out FILE  write the backed-up configuration file there
  --tenants-out FILE write the backed-up tenants file there (name it in tenancy.file)
  --force            DIR may be non-empty: its tsdb, graph, audit, snapshots, log, spill,
                     silences and automation are removed first (other files are left); with
                     CLICKHOUSE_URL the server's tables are emptied first; existing
                     --config-out and --tenants-out files are replaced
  -h, --help         this help

Environment: CLICKHOUSE_URL restores the tables into that server instead of DIR/tsdb.
`;

const progress = (line: string): void => {
  process.stderr.write(`vigil backup: ${line}\n`);
};

export async function backupCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return showHelp(BACKUP_HELP);
  if (sub === undefined) throw usageError('vigil backup', 'missing command: create, list or restore');
  if (sub === 'create') return create(rest);
  if (sub === 'list') return list(rest);
  if (sub === 'restore') return restore(rest);
  throw usageError('vigil backup', `unknown command "${sub}" (known: create, list, restore)`);
}

async function create(argv: string[]): Promise<number> {
  const cmd = 'vigil backup create';
  const p = parse(cmd, argv, { data: { type: 'string' }, config: { type: 'string' }, 'node-id': { type: 'string' } }, 1);
  if (p.values.help) return showHelp(CREATE_HELP);
  const out = p.positionals[0];
  if (!out) throw usageError(cmd, 'missing OUT, the folder to write the backup to');
  const configFile = str(p, 'config') ?? nonEmpty(process.env.VIGIL_CONFIG);
  // The same resolution as vigil start, so the data dir and node id are the ones the node used.
  const config = loadConfig({ file: configFile, flags: { data: str(p, 'data'), nodeId: str(p, 'node-id') } });
  const started = Date.now();
  const m = await createBackup({
    dataDir: config.node.dataDir,
    out,
    configFile,
    tenantsFile: config.tenancy.file,
    nodeId: config.node.id,
    vigilVersion: version(),
    clickhouseUrl: nonEmpty(process.env.CLICKHOUSE_URL),
    memgraphUrl: nonEmpty(process.env.MEMGRAPH_URL),
    progress,
  });
  const tables = m.parts.find((x) => x.name === 'tsdb')?.tables?.length ?? 0;
  process.stdout.write(`backup ${out}: node ${m.nodeId}, ${m.totals.files} files, ${mb(m.totals.bytes)}, `
    + `${m.totals.rows.toLocaleString('en-US')} rows in ${tables} tables, in ${secs(started)}\n`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const cmd = 'vigil backup list';
  const p = parse(cmd, argv, { json: { type: 'boolean' } }, 1);
  if (p.values.help) return showHelp(LIST_HELP);
  const dir = p.positionals[0];
  if (!dir) throw usageError(cmd, 'missing DIR, the folder that holds the backups');
  const backups = await listBackups(dir);
  if (p.values.json) {
    process.stdout.write(`${JSON.stringify(backups)}\n`);
    return 0;
  }
  if (backups.length === 0) {
    process.stdout.write(`no backups in ${dir}\n`);
    return 0;
  }
  process.stdout.write(table(backups));
  return 0;
}

async function restore(argv: string[]): Promise<number> {
  const cmd = 'vigil backup restore';
  const p = parse(cmd, argv, { data: { type: 'string' }, 'config-out': { type: 'string' }, 'tenants-out': { type: 'string' }, force: { type: 'boolean' } }, 1);
  if (p.values.help) return showHelp(RESTORE_HELP);
  const backup = p.positionals[0];
  if (!backup) throw usageError(cmd, 'missing BACKUP, the backup folder to restore');
  const dataDir = str(p, 'data');
  if (!dataDir) throw usageError(cmd, 'missing --data DIR, the data dir to restore into');
  const started = Date.now();
  const r = await restoreBackup({
    backup, dataDir, configOut: str(p, 'config-out'), tenantsOut: str(p, 'tenants-out'), force: p.values.force === true,
    clickhouseUrl: nonEmpty(process.env.CLICKHOUSE_URL), progress,
  });
  const hasConfig = (r.manifest.parts.find((x) => x.name === 'config')?.files.length ?? 0) > 0;
  if (hasConfig && !r.configWritten) progress('the backup holds a configuration file; pass --config-out FILE to write it');
  if (!hasConfig && str(p, 'config-out') !== undefined) progress('the backup holds no configuration file: nothing written to --config-out');
  const hasTenants = (r.manifest.parts.find((x) => x.name === 'tenants')?.files.length ?? 0) > 0;
  if (hasTenants && !r.tenantsWritten) progress('the backup holds a tenants file; pass --tenants-out FILE to write it');
  if (!hasTenants && str(p, 'tenants-out') !== undefined) progress('the backup holds no tenants file: nothing written to --tenants-out');
  process.stdout.write(`restored ${backup} (node ${r.manifest.nodeId}, made ${r.manifest.createdAt}) into ${dataDir}: `
    + `${r.manifest.totals.files} files, ${r.manifest.totals.rows.toLocaleString('en-US')} rows`
    + `${r.configWritten ? `, configuration in ${r.configWritten}` : ''}${r.tenantsWritten ? `, tenants file in ${r.tenantsWritten}` : ''}; audit entry ${r.audit.seq}, in ${secs(started)}\n`);
  return 0;
}

function table(rows: readonly BackupSummary[]): string {
  const head = ['CREATED', 'NODE', 'FILES', 'SIZE', 'ROWS', 'PARTS', 'PATH'];
  const body = rows.map((b) => (b.error
    ? ['-', '-', '-', '-', '-', `unusable: ${b.error}`, b.path]
    : [b.createdAt!, b.nodeId!, String(b.files), mb(b.bytes!), b.rows!.toLocaleString('en-US'), b.parts!.join(','), b.path]));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[head, ...body].map(line).join('\n')}\n`;
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const nonEmpty = (v: string | undefined): string | undefined => (v && v.length > 0 ? v : undefined);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const secs = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
