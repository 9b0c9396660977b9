// Named defaults of the runtime. Supervision defaults live in supervisors/ and are re-exported
// from this folder's index.

/** How long ask() waits for a reply before rejecting with TIMEOUT. */
export const DEFAULT_ASK_TIMEOUT_MS = 5_000;
/** Root path of every actor system; top-level actors are `/root/<name>`. */
export const ROOT_PATH = '/root';
