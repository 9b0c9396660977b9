// Newest-first paging over an append-only list. The cursor is the sequence number of the
// last item returned, so pages stay stable while new items arrive at the head.
import { VigilError } from '../../protocols/index.ts';
import type { Page } from '../../protocols/index.ts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../types.ts';

export interface Sequenced<T> {
  seq: number;
  item: T;
}

export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const seq = text.startsWith('s') ? Number(text.slice(1)) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new VigilError('BAD_REQUEST', `cursor: not a cursor this server issued`);
  return seq;
}

/** Walks `list` (ascending seq) from the newest down, keeping items that pass `keep`. */
export function pageNewestFirst<T>(
  list: ReadonlyArray<Sequenced<T>>,
  keep: (item: T) => boolean,
  limit: number | undefined,
  cursor: string | undefined,
): Page<T> {
  const max = Math.min(Math.max(1, limit ?? DEFAULT_PAGE_LIMIT), MAX_PAGE_LIMIT);
  const below = cursor === undefined ? Infinity : decodeCursor(cursor);
  const items: T[] = [];
  let i = upperIndex(list, below) - 1;
  let lastSeq = -1;
  for (; i >= 0 && items.length < max; i--) {
    const entry = list[i]!;
    if (keep(entry.item)) {
      items.push(entry.item);
      lastSeq = entry.seq;
    }
  }
  // Is there anything older that passes the filter? Only then hand out a cursor.
  let more = false;
  for (; i >= 0; i--) if (keep(list[i]!.item)) { more = true; break; }
  return more ? { items, next: encodeCursor(lastSeq) } : { items };
}

/** First index whose seq is >= bound (binary search; seqs ascend). */
function upperIndex<T>(list: ReadonlyArray<Sequenced<T>>, bound: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
