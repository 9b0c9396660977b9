// Named supervision defaults (OTP's conventional 3 restarts in 5 s; a short first backoff
// so a poisoned sample costs little, capped so a flapping actor never waits long).
import type { BackoffOptions } from '../actors/runtime/types.ts';

export const DEFAULT_RESTART_INTENSITY = 3;
export const DEFAULT_RESTART_PERIOD_MS = 5_000;
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 50, maxMs: 5_000, factor: 2 });
