// The opaque cursor of newest-first pages: a position (a sequence number, or a time that a
// store pairs with an id) that the next request resumes below. Stable while new items
// arrive at the head; a cursor this server did not issue is refused.
import { VigilError } from '../protocols/index.ts';

export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const seq = text.startsWith('s') ? Number(text.slice(1)) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new VigilError('BAD_REQUEST', `cursor: not a cursor this server issued`);
  return seq;
}
