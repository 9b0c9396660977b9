// The spill: batches the store could not take, on local disk, oldest first. Each batch is one
// file written once (JSON lines, fsynced) and deleted once the store has it, so a crash
// leaves only whole files (written under a temporary name, then renamed).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../../protocols/index.ts';

export interface SpillFile {
  readonly file: string;
  readonly rows: number;
  /** rows per tenant, for the back-pressure counts */
  readonly tenants: ReadonlyMap<string, number>;
}

const SUFFIX = '.jsonl';

export class Spill {
  private readonly files: SpillFile[] = [];
  private seq = 0;

  private constructor(readonly dir: string) {}

  /** Opens the folder and lists what an earlier run left, counting its rows. */
  static open<R>(dir: string, decode: (line: string) => R, count: (item: R) => { tenant: string; rows: number }): Spill {
    const spill = new Spill(dir);
    try {
      mkdirSync(dir, { recursive: true });
      const names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX)).sort();
      for (const name of names) {
        const tenants = new Map<string, number>();
        let rows = 0;
        for (const item of spill.readLines(join(dir, name), decode)) {
          const c = count(item);
          rows += c.rows;
          tenants.set(c.tenant, (tenants.get(c.tenant) ?? 0) + c.rows);
        }
        spill.files.push({ file: join(dir, name), rows, tenants });
        spill.seq = Math.max(spill.seq, Number.parseInt(name, 10) + 1 || 0);
      }
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `writer: spill folder ${dir} cannot be read`, { cause: err });
    }
    return spill;
  }

  get size(): number {
    return this.files.length;
  }

  /** The files, oldest first. */
  list(): readonly SpillFile[] {
    return this.files;
  }

  rows(): number {
    let n = 0;
    for (const f of this.files) n += f.rows;
    return n;
  }

  /** Writes one batch as a new file (temp name, fsync, rename: the file appears whole). */
  append(lines: readonly string[], rows: number, tenants: ReadonlyMap<string, number>): SpillFile {
    const name = `${String(this.seq++).padStart(12, '0')}${SUFFIX}`;
    const file = join(this.dir, name);
    const tmp = `${file}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, lines.join('\n') + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `writer: cannot spill to ${file}`, { cause: err });
    }
    const entry = { file, rows, tenants };
    this.files.push(entry);
    return entry;
  }

  read<R>(entry: SpillFile, decode: (line: string) => R): R[] {
    return [...this.readLines(entry.file, decode)];
  }

  /** Drops the oldest file (its rows are stored). */
  remove(entry: SpillFile): void {
    const i = this.files.indexOf(entry);
    if (i >= 0) this.files.splice(i, 1);
    try {
      unlinkSync(entry.file);
    } catch {
      // Already gone: nothing left to drain from it.
    }
  }

  private *readLines<R>(file: string, decode: (line: string) => R): Generator<R> {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    for (let i = 0; i < lines.length - 1; i++) {
      if (lines[i]!.length > 0) yield decode(lines[i]!);
    }
  }
}
