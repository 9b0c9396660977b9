// TabSeparated text for the bulk table (samples, each with its detector verdict): written as
// bytes into one reused buffer, integers digit by digit, so a batch costs no string per sample (building a rope of
// small strings per row and joining them took 1.5x to 3x the CPU, measured in bench/README.md).
import { nextTurn } from '../../actors/runtime/index.ts';
import { labelsName, sortedLabelNames } from '../../protocols/index.ts';
import type { SampleRun } from './types.ts';

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A string as a TabSeparated field. */
export function tsvText(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c]!) : s;
}

/** A float as ClickHouse reads it (JS spells the special values its own way). */
export function tsvFloat(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** A sample row: the value with the detector's score and expected value for it (nan: not scored). */
export const SAMPLE_COLUMNS = ['tenant', 'service', 'metric', 'labels', 'ts', 'value', 'score', 'expected', 'retain_days'] as const;
/** The columns the rollups read (the late tables' rows, rollup.ts): a sample without its score. */
export const RAW_SAMPLE_COLUMNS = ['tenant', 'service', 'metric', 'labels', 'ts', 'value', 'retain_days'] as const;

/** The scratch buffer starts here and, after a larger batch, shrinks back to it. */
const DEFAULT_BUFFER_BYTES = 1 << 20;
const MAX_KEPT_BUFFER_BYTES = 16 << 20;
/** Room for one number (the longest float or integer JS prints is 24 characters). */
const NUMBER_ROOM = 32;
const TAB = 9;
const MINUS = 45;
const ZERO = 48;
/** score and expected of a sample the detector did not judge */
const NO_VERDICT = '\tnan\tnan';

/** Bytes appended to one buffer; `text()` returns them. Batches are built synchronously, so one is shared. */
class TsvBytes {
  private buf = Buffer.allocUnsafe(DEFAULT_BUFFER_BYTES);
  pos = 0;

  /** A new batch (also after one that threw half-way). */
  start(): void {
    this.pos = 0;
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Any string (UTF-8); the caller reserved 3 bytes per character. */
  utf8(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Repeats the bytes at [from, from + n) (a row's head written once per run). */
  repeat(from: number, n: number): void {
    this.buf.copyWithin(this.pos, from, from + n);
    this.pos += n;
  }

  tab(): void {
    this.buf[this.pos++] = TAB;
  }

  /** A whole number, as String() spells it. */
  int(v: number): void {
    if (!Number.isSafeInteger(v)) return this.ascii(String(v));
    const buf = this.buf;
    if (v < 0) {
      buf[this.pos++] = MINUS;
      v = -v;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    const end = this.pos + digits;
    for (let i = end - 1; i >= this.pos; i--) {
      const q = Math.floor(v / 10);
      buf[i] = ZERO + (v - q * 10);
      v = q;
    }
    this.pos = end;
  }

  float(v: number): void {
    // whole values print the same either way, without a string
    if (Number.isSafeInteger(v)) this.int(v);
    else this.ascii(tsvFloat(v));
  }

  ascii(s: string): void {
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) buf[this.pos++] = s.charCodeAt(i);
  }

  text(): string {
    const out = this.buf.toString('utf8', 0, this.pos);
    this.pos = 0;
    if (this.buf.length > MAX_KEPT_BUFFER_BYTES) this.buf = Buffer.allocUnsafe(DEFAULT_BUFFER_BYTES);
    return out;
  }
}

const bytes = new TsvBytes();

/** A label name or value that `labelsName` would escape, or a TSV field would. */
const LABEL_SPECIAL = /[\\"\n\t\r]/;

/**
 * tenant, service, metric, labels and a tab: the part of a row its run decides. Written in
 * place for the run's first row (no string per run: most runs are one sample, and building
 * the head as text was a tenth of what a node allocated under load), then copied from there.
 */
class RunHead {
  private at = -1;
  private length = 0;
  /** label names, sorted; null when a name or value needs escaping (then labelsName spells them) */
  private readonly names: string[] | null;
  /** bytes to reserve for a row besides its numbers and tail: an upper bound on the head's */
  readonly room: number;

  constructor(private readonly run: SampleRun) {
    const names = sortedLabelNames(run.labels);
    let chars = run.tenant.length + run.service.length + run.metric.length + 2;
    let plain = true;
    for (const n of names) {
      const v = run.labels[n]!;
      chars += n.length + v.length + 4;
      if (plain && (LABEL_SPECIAL.test(n) || LABEL_SPECIAL.test(v))) plain = false;
    }
    this.names = plain ? names : null;
    // a character takes 3 bytes at most in UTF-8, and 4 escaped twice (a label's own quoting,
    // then TSV's: `\` becomes `\\\\`)
    this.room = 4 * chars + 8;
  }

  /** After `bytes.reserve(head.room + ...)`. */
  write(): void {
    if (this.at >= 0) {
      bytes.repeat(this.at, this.length);
      return;
    }
    this.at = bytes.pos;
    const run = this.run;
    bytes.utf8(tsvText(run.tenant));
    bytes.tab();
    bytes.utf8(tsvText(run.service));
    bytes.tab();
    bytes.utf8(tsvText(run.metric));
    bytes.tab();
    if (this.names === null) {
      bytes.utf8(tsvText(labelsName(run.labels)));
    } else if (this.names.length > 0) {
      bytes.ascii('{');
      for (let i = 0; i < this.names.length; i++) {
        const n = this.names[i]!;
        if (i > 0) bytes.ascii(',');
        bytes.utf8(n);
        bytes.ascii('="');
        bytes.utf8(run.labels[n]!);
        bytes.ascii('"');
      }
      bytes.ascii('}');
    }
    bytes.tab();
    this.length = bytes.pos - this.at;
  }
}

/**
 * Rows of `samples`; `keep` (checked writes) says which samples to write. With `scored`
 * (SAMPLE_COLUMNS) each row carries its run's score and expected value for the sample (nan where
 * the run has none); without (RAW_SAMPLE_COLUMNS) only the value.
 */
export function samplesTsv(
  runs: readonly SampleRun[],
  retainDays: (tenant: string) => number,
  keep?: (run: SampleRun, i: number) => boolean,
  scored = true,
): { text: string; rows: number } {
  bytes.start();
  let rows = 0;
  for (const run of runs) {
    const head = new RunHead(run);
    const tail = `\t${retainDays(run.tenant)}\n`;
    const s = run.samples;
    const verdicts = scored ? run.scores : undefined;
    for (let i = 0; i < s.length; i++) {
      if (keep && !keep(run, i)) continue;
      const p = s[i]!;
      bytes.reserve(head.room + 4 * NUMBER_ROOM + tail.length);
      head.write();
      bytes.int(Math.trunc(p[0]));
      bytes.tab();
      bytes.float(p[1]);
      if (scored) {
        // aligned with the samples; a verdict for another time (never made so) is not this sample's
        const v = verdicts?.[i];
        if (v !== undefined && v[0] === p[0]) {
          bytes.tab();
          bytes.float(v[1]);
          bytes.tab();
          bytes.float(v[2]);
        } else bytes.ascii(NO_VERDICT);
      }
      bytes.ascii(tail);
      rows++;
    }
  }
  return { text: bytes.text(), rows };
}

/** Rows of TSV built between two turns of the event loop (tsvInTurns). */
export const TSV_ROWS_PER_TURN = 2_000;

/**
 * One batch's TSV, built TSV_ROWS_PER_TURN rows at a time with a turn of the event loop
 * between: a batch of thousands of rows (more wait while an insert is under way) was built in
 * one piece, and every request waited behind it (bench:tenancy, a CPU profile against the
 * event loop's stalls). Each piece is built whole in its turn, so the builders' shared buffer is safe.
 */
export async function tsvInTurns<R>(runs: readonly R[], rowsOf: (run: R) => number, build: (part: readonly R[]) => string): Promise<string> {
  const texts: string[] = [];
  let from = 0;
  while (from < runs.length) {
    let to = from;
    let rows = 0;
    while (to < runs.length && (to === from || rows + rowsOf(runs[to]!) <= TSV_ROWS_PER_TURN)) rows += rowsOf(runs[to++]!);
    if (texts.length > 0) await nextTurn();
    texts.push(build(from === 0 && to === runs.length ? runs : runs.slice(from, to)));
    from = to;
  }
  return texts.length === 1 ? texts[0]! : texts.join('');
}
