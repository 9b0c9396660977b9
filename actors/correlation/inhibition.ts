// Inhibition rules, as Alertmanager has them: while an alert matching `source` fires, alerts
// matching `target` that carry the same values of the `equal` labels are inhibited (a root
// alert mutes its symptoms). An alert never inhibits itself. The firing sources of each
// rule are indexed by their `equal` values, so a check is one lookup per rule.
import type { Labels } from '../../protocols/index.ts';
import { compileMatchers, matchesAll, type CompiledMatcher, type Matcher } from './matchers.ts';

export interface InhibitRule {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  /** labels whose values source and target must share (a missing label counts as "") */
  equal: string[];
}

interface CompiledRule {
  source: CompiledMatcher[];
  target: CompiledMatcher[];
  equal: string[];
  /** equal-key → fingerprints of the firing alerts that match `source` */
  firing: Map<string, Set<string>>;
}

function equalKey(equal: readonly string[], labels: Labels): string {
  return equal.map((n) => (Object.hasOwn(labels, n) ? labels[n] : '')).join('\u0000');
}

export class Inhibitor {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly InhibitRule[]) {
    this.rules = rules.map((r, i) => ({
      source: compileMatchers(r.sourceMatchers, `inhibitRules[${i}].sourceMatchers`),
      target: compileMatchers(r.targetMatchers, `inhibitRules[${i}].targetMatchers`),
      equal: [...r.equal],
      firing: new Map(),
    }));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** An alert started firing: it may inhibit others from now on. True when it is a source of any rule. */
  firing(fingerprint: string, labels: Labels): boolean {
    let source = false;
    for (const r of this.rules) {
      if (!matchesAll(r.source, labels)) continue;
      const key = equalKey(r.equal, labels);
      let set = r.firing.get(key);
      if (!set) r.firing.set(key, (set = new Set()));
      set.add(fingerprint);
      source = true;
    }
    return source;
  }

  /** An alert stopped firing. True when it was a source (what it inhibited may be free now). */
  resolved(fingerprint: string, labels: Labels): boolean {
    let source = false;
    for (const r of this.rules) {
      if (!matchesAll(r.source, labels)) continue;
      const key = equalKey(r.equal, labels);
      const set = r.firing.get(key);
      if (set?.delete(fingerprint)) source = true;
      if (set && set.size === 0) r.firing.delete(key);
    }
    return source;
  }

  /** Fingerprints of the firing alerts that inhibit this one (none: it is not inhibited). */
  inhibitedBy(fingerprint: string, labels: Labels): string[] {
    const out: string[] = [];
    for (const r of this.rules) {
      if (!matchesAll(r.target, labels)) continue;
      const set = r.firing.get(equalKey(r.equal, labels));
      if (!set) continue;
      for (const fp of set) if (fp !== fingerprint && !out.includes(fp)) out.push(fp);
    }
    return out;
  }
}
