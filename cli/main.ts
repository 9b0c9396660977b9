// Entry point of the `vigil` command (cli/bin/vigil.js loads it; `tsx cli/main.ts` works too).
// Exits explicitly: a command that failed half-way (a node that could not listen) may
// leave timers behind, and the exit status must not wait on them.
import { runCli } from './run.ts';

process.exit(await runCli(process.argv.slice(2)));
