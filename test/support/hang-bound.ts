// A bound on how long something may take before a test calls it hung: a liveness check with a
// wide margin (what used to hang waited for good, or for a 72 s timeout), not a speed figure.

/** `work`'s result, or a rejection saying `what` did not end within `ms`. */
export async function endsWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}
