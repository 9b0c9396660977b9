// A test that needs something this machine may lack (a Debian package, root for a tmpfs)
// skips with the reason on a developer's machine. Under `.ci/run`, which installs and runs
// as root, VIGIL_REQUIRE_PEERS=1 turns that skip into a failure: a missing peer must never
// stand in for the check it was meant to make.
import type { Context } from 'mocha';

export const PEERS_REQUIRED = process.env.VIGIL_REQUIRE_PEERS === '1';

export function skipWithout(ctx: Context, why: string): never {
  if (PEERS_REQUIRED) throw new Error(`cannot run here, and VIGIL_REQUIRE_PEERS=1 forbids skipping: ${why}`);
  console.log(`      - SKIPPED: ${why}`);
  ctx.skip();
}
