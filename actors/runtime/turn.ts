// A turn of the event loop, for work split into pieces: what other callbacks (I/O, timers,
// the actors' messages) are waiting runs before the next piece.
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
