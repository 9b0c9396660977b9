// Silences outlive a restart: one JSON file per tenant under <dataDir>/silences/, written
// whole on every change (write to a temporary file, fsync, rename, fsync the folder), read
// once when the tenant's correlator starts. A tenant has at most correlation.maxSilences of
// them, so a file stays small. Versioned: a file this code does not know is refused.
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Silence, SilenceStore } from '../actors/correlation/index.ts';
import { syncDir } from '../storage/index.ts';

export const SILENCES_DIR = 'silences';
const VERSION = 1;

interface SilenceFile {
  version: number;
  tenant: string;
  silences: Silence[];
}

export class FileSilenceStore implements SilenceStore {
  private readonly dir: string;
  private writing = Promise.resolve();

  constructor(dataDir: string) {
    this.dir = join(dataDir, SILENCES_DIR);
    mkdirSync(this.dir, { recursive: true });
  }

  load(tenant: string): Silence[] {
    let text: string;
    try {
      text = readFileSync(this.file(tenant), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const f = JSON.parse(text) as SilenceFile;
    if (f.version !== VERSION || f.tenant !== tenant || !Array.isArray(f.silences)) throw new Error(`${this.file(tenant)}: not a version ${VERSION} silence file of tenant ${tenant}`);
    return f.silences;
  }

  save(tenant: string, silences: readonly Silence[]): Promise<void> {
    // one write at a time, in order: the last change is what the file ends with
    const next = this.writing.then(() => this.write(tenant, silences));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(tenant: string, silences: readonly Silence[]): Promise<void> {
    const body: SilenceFile = { version: VERSION, tenant, silences: [...silences] };
    const tmp = `${this.file(tenant)}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(body));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file(tenant));
    await syncDir(this.dir);
  }

  private file(tenant: string): string {
    return join(this.dir, `${encodeURIComponent(tenant)}.json`);
  }
}
