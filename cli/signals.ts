// Waiting for the operator's stop: resolves on the first SIGINT/SIGTERM so the command can
// stop cleanly; a second one means "now" and exits at once (130 = interrupted).
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (sig: NodeJS.Signals): void => {
      if (seen) process.exit(130);
      seen = true;
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
