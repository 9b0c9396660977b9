// Tree introspection for the operator (`vigil ctl tree`): flatten and render ActorInfo.
import type { ActorInfo, ActorStatus } from '../actors/runtime/types.ts';

export interface ActorRow {
  depth: number;
  path: string;
  kind: string;
  status: ActorStatus;
  restarts: number;
  mailbox: number;
}

/** Depth-first rows, parents before children, siblings in start order. */
export function flattenTree(root: ActorInfo): ActorRow[] {
  const rows: ActorRow[] = [];
  const walk = (n: ActorInfo, depth: number): void => {
    rows.push({ depth, path: n.path, kind: n.kind, status: n.status, restarts: n.restarts, mailbox: n.mailbox });
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(root, 0);
  return rows;
}

/** One line per actor: indented name, kind, status, restarts, mailbox. */
export function renderTree(root: ActorInfo): string {
  return flattenTree(root)
    .map((r) => {
      const name = r.depth === 0 ? r.path : r.path.slice(r.path.lastIndexOf('/') + 1);
      const label = `${'  '.repeat(r.depth)}${name}`;
      return `${label.padEnd(40)} ${r.kind.padEnd(12)} ${r.status.padEnd(10)} restarts=${r.restarts} mailbox=${r.mailbox}`;
    })
    .join('\n');
}

/** Totals over a tree, e.g. for a status line. */
export function summarizeTree(root: ActorInfo): { actors: number; restarts: number; mailbox: number; notRunning: number } {
  let actors = 0, restarts = 0, mailbox = 0, notRunning = 0;
  for (const r of flattenTree(root)) {
    actors++;
    restarts += r.restarts;
    mailbox += r.mailbox;
    if (r.status !== 'running') notRunning++;
  }
  return { actors, restarts, mailbox, notRunning };
}
