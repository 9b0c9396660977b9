// What a batch writer needs to know about the table it feeds.
import type { WriteMode } from '../tsdb/index.ts';

export interface WriterTable<R> {
  /** names the spill folder and the log lines */
  readonly name: string;
  /** rows an item carries (a run of samples carries many): what the bounds count */
  rows(item: R): number;
  tenant(item: R): string;
  /** stores the items; `mode.checked` when some may already be stored (retry, spill drain) */
  write(items: readonly R[], mode: WriteMode): Promise<void>;
  /** one line of JSON for the spill (no newline inside), and back */
  encode(item: R): string;
  decode(line: string): R;
}

/** What the writer tells its host (to log and count); never needed for correctness. */
export type WriterEvent =
  | { type: 'retry'; table: string; attempt: number; delayMs: number; error: unknown }
  | { type: 'down'; table: string; error: unknown }
  | { type: 'up'; table: string }
  | { type: 'spilled'; table: string; rows: number; file: string; reason: 'down' | 'memory' | 'close' }
  | { type: 'drained'; table: string; rows: number; file: string }
  | { type: 'failed'; table: string; rows: number; error: unknown };

export interface WriterStats {
  /** rows held in memory (queued and in flight) */
  memoryRows: number;
  /** rows waiting on disk */
  spilledRows: number;
  spillFiles: number;
  /** the store refused the last write: new batches go to disk until a probe succeeds */
  down: boolean;
  storedRows: number;
}
