// `vigil ctl tree` as text: one line per actor, indented by depth, in columns. The full
// path is shown because it is what `vigil ctl restart` takes.
import type { TreeNode } from '../api/index.ts';

export function renderTree(root: TreeNode): string {
  const rows: string[][] = [['PATH', 'KIND', 'STATUS', 'RESTARTS', 'MAILBOX']];
  const walk = (n: TreeNode, depth: number): void => {
    rows.push([`${'  '.repeat(depth)}${n.path}`, n.kind, n.status, String(n.restarts), String(n.mailbox)]);
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(root, 0);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // text columns left-aligned, numbers right-aligned
  return rows.map((r) => r.map((cell, i) => (i >= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
