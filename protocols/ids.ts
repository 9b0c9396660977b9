// Deterministic ids. Events derive their id from what they are, so a redelivered alert
// (at-least-once) carries the same id and is stored once.

/** 32-bit FNV-1a of a string, seeded (so two seeds give two independent hashes). */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `prefix_` + 16 hex digits from two independent 32-bit hashes of `text`. */
export function stableId(prefix: string, text: string): string {
  const a = fnv1a(text).toString(16).padStart(8, '0');
  const b = fnv1a(text, 0x9e3779b9).toString(16).padStart(8, '0');
  return `${prefix}_${a}${b}`;
}
