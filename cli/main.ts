// Entry point of the `vigil` command (cli/bin/vigil.js loads it; `tsx cli/main.ts` works too).
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2));
