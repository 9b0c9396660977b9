// What a backup folder holds, as its manifest says. One manifest per backup, written last:
// a folder without one (an interrupted create) is not a backup and `list` says so.

/** The manifest's file name inside a backup folder. */
export const MANIFEST_FILE = 'manifest.json';
export const BACKUP_FORMAT = 'vigil-backup';
export const BACKUP_FORMAT_VERSION = 1;

/**
 * The parts of a data dir (DESIGN.md §3 layout, as the node lays it out under node.dataDir)
 * that are copied as files. `tsdb` is not among them: its tables are exported (tsdb-part.ts).
 * `silences` (node/silences.ts) and `automation` (runbooks and runs, node/automation.ts) are
 * configuration an operator made through the API: DESIGN.md §1 backs configuration up.
 */
export const FILE_PARTS = ['graph', 'audit', 'snapshots', 'log', 'spill', 'silences', 'automation'] as const;
export type FilePart = (typeof FILE_PARTS)[number];
/** The chdb folder under the data dir. */
export const TSDB_DIR = 'tsdb';
/** Where the configuration file goes inside a backup. */
export const CONFIG_PART = 'config';
/** Where the tenants file (the node config's tenancy.file, outside the data dir) goes inside a backup. */
export const TENANTS_PART = 'tenants';

export interface FileEntry {
  /** relative to the backup folder, '/'-separated */
  path: string;
  size: number;
  sha256: string;
}

export interface ColumnEntry {
  name: string;
  type: string;
}

export interface TableEntry {
  name: string;
  /** the exported file, relative to the backup folder (also listed in the part's files) */
  file: string;
  /** rows as stored (count() without FINAL: duplicates not yet merged are kept, as they are) */
  rows: number;
  /** sum of cityHash64 over each row's RowBinary form: equal sets of rows give equal sums */
  fingerprint: string;
  columns: ColumnEntry[];
  /** the table's CREATE statement at backup time (used only for a table today's schema lacks) */
  ddl: string;
}

export interface PartEntry {
  name: string;
  kind: 'files' | 'config' | 'tsdb';
  files: FileEntry[];
  bytes: number;
  /** tsdb only */
  tables?: TableEntry[];
  /** why a part holds nothing, when it does not exist at the source */
  note?: string;
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  nodeId: string;
  vigilVersion: string;
  source: {
    dataDir: string;
    config: string | null;
    /** the tenants file backed up (absent: none was named or it did not exist) */
    tenants?: string;
    tsdb: { engine: 'chdb' | 'server'; database: string; engineVersion: string };
  };
  parts: PartEntry[];
  totals: { files: number; bytes: number; rows: number };
  /** sha256 of this manifest's JSON with `digest` set to "" (catches an edited manifest) */
  digest: string;
}

/** Progress lines for long parts (the CLI prints them on stderr). */
export type Progress = (line: string) => void;
