// Values as detectors see them: a number, or NaN for an empty or unreadable field
// (Number('') would be 0, which would invent a sample).
export function parseValue(raw: string): number {
  const text = raw.trim();
  return text === '' ? NaN : Number(text);
}
