// Which children a strategy restarts when one crashes (OTP semantics, children in start order).
import type { Strategy } from '../actors/runtime/types.ts';

export const STRATEGIES: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];

export function restartTargets(strategy: Strategy, children: readonly string[], crashed: string): string[] {
  const at = children.indexOf(crashed);
  if (at < 0) return [crashed];
  switch (strategy) {
    case 'one_for_one':
      return [crashed];
    case 'one_for_all':
      return [...children];
    case 'rest_for_one':
      return children.slice(at);
  }
}
