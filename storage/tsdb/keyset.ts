// Keyset cursors for newest-first pages: the (time, id) of the last item handed out, so a
// page never repeats or skips an item while new ones arrive at the head. The time part is
// storage/page.ts's cursor codec; the id rides after it (ids are unique per time).
import { VigilError } from '../../protocols/index.ts';
import { decodeCursor, encodeCursor } from '../page.ts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../types.ts';

export interface Keyset {
  t: number;
  id: string;
}

export function encodeKeyset(k: Keyset): string {
  return `${encodeCursor(k.t)}.${Buffer.from(k.id).toString('base64url')}`;
}

export function decodeKeyset(cursor: string): Keyset {
  const dot = cursor.indexOf('.');
  if (dot <= 0) throw new VigilError('BAD_REQUEST', 'cursor: not a cursor this server issued');
  const t = decodeCursor(cursor.slice(0, dot));
  const id = Buffer.from(cursor.slice(dot + 1), 'base64url').toString();
  if (id.length === 0) throw new VigilError('BAD_REQUEST', 'cursor: not a cursor this server issued');
  return { t, id };
}

/** The page size a query asks for, clamped like the memory store's pages. */
export function pageLimit(limit: number | undefined): number {
  return Math.min(Math.max(1, Math.floor(limit ?? DEFAULT_PAGE_LIMIT)), MAX_PAGE_LIMIT);
}
