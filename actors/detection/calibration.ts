// Maps a log tail probability onto the [0, 1] score every tier emits: score = log10(1/p)/10,
// so 0.5 means "one chance in 10^5 under this series' own history" and 1 means 10^-10 or
// rarer, whatever the series' units, level or noise. One threshold serves all series.

const LN_FLOOR = Math.log(1e-10);

export function scoreFromLogTail(logTail: number): number {
  const s = logTail / LN_FLOOR;
  return s <= 0 ? 0 : s >= 1 ? 1 : s;
}
