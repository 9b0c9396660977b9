// Timestamps as Vigil's detectors see them: Unix milliseconds (NaN when unreadable).
// NAB writes `YYYY-MM-DD HH:MM:SS` without a zone; it is read as UTC so that daylight-saving
// repeats in the data stay repeats instead of being shifted by the local zone.

const DIGIT0 = 48;

function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - DIGIT0;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff]` (UTC), ISO 8601 with a zone, or epoch seconds/ms. */
export function parseTimestamp(raw: string): number {
  const text = raw.trim();
  if (text.length >= 19 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    const tail = text.slice(19);
    // the fast path: the fixed NAB layout, optional fraction, no zone
    if (tail === '' || /^\.\d+$/.test(tail)) {
      const ms = Date.UTC(
        digits(text, 0, 4),
        digits(text, 5, 2) - 1,
        digits(text, 8, 2),
        digits(text, 11, 2),
        digits(text, 14, 2),
        digits(text, 17, 2),
        tail === '' ? 0 : Math.floor(Number('0' + tail) * 1000),
      );
      return ms;
    }
    return Date.parse(text);
  }
  if (text === '') return NaN;
  const n = Number(text);
  if (!Number.isFinite(n)) return NaN;
  // a bare number: seconds below 1e11 (year 5138), milliseconds above
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}
