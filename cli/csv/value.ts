// Values as detectors see them: a number, or NaN for an empty or unreadable field
// (Number('') would be 0, which would invent a sample).
export function parseValue(raw: string): number {
  const text = raw.trim();
  return text === '' ? NaN : Number(text);
}

/** A field that holds something other than a finite number (`abc`, `NaN`, `1e999`): a
 * mistake in the file. An empty field is not one: it is a gap, a sample not taken. */
export function isUnreadableValue(raw: string): boolean {
  const text = raw.trim();
  return text !== '' && !Number.isFinite(Number(text));
}
