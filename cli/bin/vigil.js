#!/usr/bin/env node
// The `vigil` command: registers tsx's ESM loader (Vigil runs its TypeScript directly,
// no build step) and hands over to cli/main.ts, in this same process so signals and
// the exit code need no forwarding.
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
