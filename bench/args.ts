// A benchmark's flags (`npm run bench:x -- --rate 500 --json`): a flag's value, or a positive
// integer with its default; a bad number exits 2 with one line naming the flag.

/** The word after `name` on the command line, if the flag is given. */
export function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `name`'s value as a positive integer, `fallback` when absent. */
export function positiveInt(name: string, fallback: number): number {
  const v = process.argv.includes(name) ? Number(flagValue(name)) : fallback;
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`${name} needs a positive integer`);
    process.exit(2);
  }
  return v;
}
