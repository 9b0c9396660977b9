// Where runbooks and runs are kept. Runbooks: per tenant, one JSON file of their sources,
// replaced atomically on every change (write-through, as DESIGN.md wants runbook config), or
// in memory. Runs: in memory for the API, with every change appended to a JSON-lines file
// when a folder is given, read back (last line per run wins) at start so triggered runs are
// not started twice and unfinished runs resume. The audit log stays the fsynced record.
import { appendFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunbookRun, RunbookRunStatus } from '../../protocols/runbooks.ts';
import type { Page } from '../../protocols/index.ts';
import { VigilError } from '../../protocols/index.ts';
import { decodeCursor, encodeCursor, syncDir } from '../../storage/index.ts';
import { parseRunbookYaml } from './schema.ts';
import type { Runbook } from './runbook.ts';

export interface RunbookStore {
  /** a tenant's runbooks, by id */
  list(tenant: string): Runbook[];
  get(tenant: string, id: string): Runbook | undefined;
  /** resolves once it is stored */
  put(runbook: Runbook): Promise<void>;
  /** replaces the tenant's whole set */
  replace(tenant: string, runbooks: Runbook[]): Promise<void>;
  delete(tenant: string, id: string): Promise<boolean>;
  /** tenants that have runbooks */
  tenants(): string[];
}

export class MemoryRunbooks implements RunbookStore {
  protected readonly byTenant = new Map<string, Map<string, Runbook>>();

  list(tenant: string): Runbook[] {
    return [...(this.byTenant.get(tenant)?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  get(tenant: string, id: string): Runbook | undefined {
    return this.byTenant.get(tenant)?.get(id);
  }

  async put(runbook: Runbook): Promise<void> {
    let m = this.byTenant.get(runbook.tenant);
    if (!m) this.byTenant.set(runbook.tenant, (m = new Map()));
    m.set(runbook.id, runbook);
    await this.saved(runbook.tenant);
  }

  async replace(tenant: string, runbooks: Runbook[]): Promise<void> {
    this.byTenant.set(tenant, new Map(runbooks.map((r) => [r.id, r])));
    await this.saved(tenant);
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const had = this.byTenant.get(tenant)?.delete(id) ?? false;
    if (had) await this.saved(tenant);
    return had;
  }

  tenants(): string[] {
    return [...this.byTenant.keys()].filter((t) => this.byTenant.get(t)!.size > 0).sort();
  }

  protected async saved(_tenant: string): Promise<void> {
    // memory only
  }
}

/** A runbook as it is kept: its source, with the id, version and time it was stored under. */
export interface SavedRunbook {
  id: string;
  version: number;
  updatedAt: number;
  source: string;
}

/** A tenant's runbooks as they are kept. */
export function savedRunbooks(runbooks: readonly Runbook[]): SavedRunbook[] {
  return runbooks.map((r) => ({ id: r.id, version: r.version, updatedAt: r.updatedAt, source: r.source }));
}

/** Kept runbooks back as Runbooks (each checked again); `where` names them in an error. */
export function restoredRunbooks(tenant: string, saved: readonly SavedRunbook[], where: string): Map<string, Runbook> {
  return new Map(saved.map((s) => [s.id, parseRunbookYaml(s.source, { tenant, id: s.id, source: `${where} runbook ${s.id}`, now: s.updatedAt, version: s.version })]));
}

/** Runbooks in `<dir>/<tenant>.json`, written to a temporary file, synced and renamed. */
export class FileRunbooks extends MemoryRunbooks {
  private writing = Promise.resolve();

  private constructor(private readonly dir: string) {
    super();
  }

  static async open(dir: string, onBad?: (file: string, err: unknown) => void): Promise<FileRunbooks> {
    await mkdir(dir, { recursive: true });
    const store = new FileRunbooks(dir);
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      const tenant = name.slice(0, -'.json'.length);
      try {
        store.byTenant.set(tenant, restoredRunbooks(tenant, JSON.parse(await readFile(join(dir, name), 'utf8')) as SavedRunbook[], name));
      } catch (err) {
        onBad?.(join(dir, name), err); // kept on disk for an operator; the node starts without it
      }
    }
    return store;
  }

  protected override saved(tenant: string): Promise<void> {
    const rows = savedRunbooks(this.list(tenant));
    const file = join(this.dir, `${tenant}.json`);
    const next = this.writing.then(async () => {
      if (rows.length === 0) await rm(file, { force: true });
      else {
        await writeFile(`${file}.tmp`, JSON.stringify(rows, null, 1), { flush: true });
        await rename(`${file}.tmp`, file);
      }
      await syncDir(this.dir);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}

export interface RunQuery {
  status?: RunbookRunStatus;
  incident?: string;
  runbook?: string;
  limit: number;
  cursor?: string;
}

/** Ended runs kept per tenant (the newest); unfinished ones are always kept. */
export const DEFAULT_KEPT_RUNS = 1_000;

interface Slot {
  seq: number;
  run: RunbookRun;
}

const ENDED = new Set<RunbookRunStatus>(['succeeded', 'failed', 'cancelled']);

export class RunStore {
  private readonly byTenant = new Map<string, Map<string, Slot>>();
  private seq = 0;
  private writing = Promise.resolve();
  private pending: string[] = [];

  private constructor(private readonly file: string | undefined, private readonly keep: number) {}

  static memory(keep = DEFAULT_KEPT_RUNS): RunStore {
    return new RunStore(undefined, keep);
  }

  /** Runs of `<dir>/runs.jsonl`, compacted as they are read. */
  static async open(dir: string, keep = DEFAULT_KEPT_RUNS): Promise<RunStore> {
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'runs.jsonl');
    const store = new RunStore(file, keep);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        store.remember(JSON.parse(line) as RunbookRun);
      } catch {
        // a line cut off by a crash: the run's previous line stands
      }
    }
    const lines = store.all().map((r) => JSON.stringify(r));
    await writeFile(`${file}.tmp`, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { flush: true });
    await rename(`${file}.tmp`, file);
    return store;
  }

  put(run: RunbookRun): void {
    this.remember(run);
    if (this.file === undefined) return;
    this.pending.push(JSON.stringify(run));
    if (this.pending.length === 1) {
      const file = this.file;
      this.writing = this.writing.then(async () => {
        const lines = this.pending;
        this.pending = [];
        await appendFile(file, `${lines.join('\n')}\n`);
      }).catch(() => undefined);
    }
  }

  get(tenant: string, id: string): RunbookRun | undefined {
    return this.byTenant.get(tenant)?.get(id)?.run;
  }

  /** Newest first. */
  list(tenant: string, q: RunQuery): Page<RunbookRun> {
    const below = q.cursor === undefined ? Infinity : decodeCursor(q.cursor);
    const slots = [...(this.byTenant.get(tenant)?.values() ?? [])]
      .filter((s) => s.seq < below && (q.status === undefined || s.run.status === q.status)
        && (q.incident === undefined || s.run.incidentId === q.incident) && (q.runbook === undefined || s.run.runbookId === q.runbook))
      .sort((a, b) => b.seq - a.seq);
    const page = slots.slice(0, q.limit);
    const items = page.map((s) => s.run);
    return slots.length > q.limit ? { items, next: encodeCursor(page[page.length - 1]!.seq) } : { items };
  }

  /** Runs not yet ended, oldest first (to resume). */
  unfinished(): RunbookRun[] {
    return this.all().filter((r) => !ENDED.has(r.status));
  }

  /** Resolves once every change put so far is written. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private all(): RunbookRun[] {
    const slots: Slot[] = [];
    for (const m of this.byTenant.values()) slots.push(...m.values());
    return slots.sort((a, b) => a.seq - b.seq).map((s) => s.run);
  }

  private remember(run: RunbookRun): void {
    if (typeof run?.id !== 'string' || typeof run.tenant !== 'string') throw new VigilError('BAD_REQUEST', 'not a run');
    let m = this.byTenant.get(run.tenant);
    if (!m) this.byTenant.set(run.tenant, (m = new Map()));
    const slot = m.get(run.id);
    if (slot) slot.run = run;
    else m.set(run.id, { seq: ++this.seq, run });
    if (ENDED.has(run.status) && m.size > this.keep) this.prune(m);
  }

  /** Drops the oldest ended runs past `keep` (unfinished ones stay whatever their number). */
  private prune(m: Map<string, Slot>): void {
    let over = m.size - this.keep;
    for (const [id, s] of m) {
      if (over <= 0) break;
      if (ENDED.has(s.run.status)) {
        m.delete(id);
        over--;
      }
    }
  }
}
