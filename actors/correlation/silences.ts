// Silences, as Alertmanager has them: matchers and a time span. An alert whose labels every
// matcher of an active silence matches is suppressed: it joins no incident and is in no
// notification. A silence is pending before startsAt, active until endsAt, expired after;
// "deleting" one expires it (it stays listed, as in Alertmanager, until its retention ends).
import { VigilError, type Labels } from '../../protocols/index.ts';
import { DEFAULT_MAX_SILENCES } from './settings.ts';
import { compileMatchers, matchesAll, plainMatcher, type CompiledMatcher, type Matcher } from './matchers.ts';

export type SilenceState = 'pending' | 'active' | 'expired';

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  updatedAt: number;
}

/** What a caller sends to create (no id) or replace (with id) a silence. */
export interface SilenceDraft {
  id?: string;
  matchers: Matcher[];
  startsAt?: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export interface SilenceView extends Silence {
  state: SilenceState;
}

interface Held {
  silence: Silence;
  compiled: CompiledMatcher[];
}

/** Expired silences stay listed this long (Alertmanager's default data retention: 120 h). */
export const SILENCE_RETENTION_MS = 120 * 3600_000;

export function silenceState(s: Silence, now: number): SilenceState {
  if (now < s.startsAt) return 'pending';
  return now < s.endsAt ? 'active' : 'expired';
}

export class SilenceBook {
  private readonly held = new Map<string, Held>();

  constructor(private readonly maxSilences = DEFAULT_MAX_SILENCES, saved: readonly Silence[] = []) {
    for (const s of saved) this.held.set(s.id, { silence: structuredClone(s), compiled: compileMatchers(s.matchers) });
  }

  /**
   * Creates (no id, or an unknown one is refused) or replaces a silence. `newId` names a new
   * one. Refuses silences that would match every alert, end before they start, or change an
   * expired one (create a new one instead, as Alertmanager asks).
   */
  put(draft: SilenceDraft, now: number, newId: () => string): Silence {
    if (draft.matchers.length === 0) throw bad('a silence needs at least one matcher');
    const compiled = compileMatchers(draft.matchers);
    if (compiled.every((m) => m.test({}))) throw bad('at least one matcher must not match the empty string, or the silence would match every alert');
    let id: string;
    // A start in the past means now (as in Alertmanager); an active silence keeps its start.
    let startsAt = Math.max(draft.startsAt ?? now, now);
    if (draft.id !== undefined) {
      const old = this.held.get(draft.id);
      if (!old) throw new VigilError('NOT_FOUND', `silence ${draft.id} not found`);
      const state = silenceState(old.silence, now);
      if (state === 'expired') throw new VigilError('CONFLICT', `silence ${draft.id} has expired and cannot be changed; create a new one`);
      if (state === 'active') startsAt = old.silence.startsAt;
      id = draft.id;
    } else {
      this.prune(now);
      if (this.held.size >= this.maxSilences) throw new VigilError('QUOTA_EXCEEDED', `at most ${this.maxSilences} silences per tenant; expire some first`);
      id = '';
    }
    if (!(draft.endsAt > startsAt)) throw bad('endsAt must be after startsAt');
    if (id === '') id = newId();
    const silence: Silence = {
      id, matchers: draft.matchers.map(plainMatcher), startsAt, endsAt: draft.endsAt,
      createdBy: draft.createdBy, comment: draft.comment, updatedAt: now,
    };
    this.held.set(id, { silence, compiled });
    return structuredClone(silence);
  }

  /** Ends a silence now (a pending one never starts). NOT_FOUND when unknown; an expired one stays as it is. */
  expire(id: string, now: number): Silence {
    const h = this.held.get(id);
    if (!h) throw new VigilError('NOT_FOUND', `silence ${id} not found`);
    const s = h.silence;
    const state = silenceState(s, now);
    if (state !== 'expired') {
      if (state === 'pending') s.startsAt = now;
      s.endsAt = now;
      s.updatedAt = now;
    }
    return structuredClone(s);
  }

  get(id: string, now: number): SilenceView | undefined {
    const h = this.held.get(id);
    return h ? { ...structuredClone(h.silence), state: silenceState(h.silence, now) } : undefined;
  }

  list(now: number): SilenceView[] {
    this.prune(now);
    return [...this.held.values()].map((h) => ({ ...structuredClone(h.silence), state: silenceState(h.silence, now) }));
  }

  /** Every silence as stored (for persistence). */
  all(): Silence[] {
    return [...this.held.values()].map((h) => structuredClone(h.silence));
  }

  /** Ids of the active silences that match these labels. */
  silencing(labels: Labels, now: number): string[] {
    const out: string[] = [];
    for (const h of this.held.values()) {
      const s = h.silence;
      if (now >= s.startsAt && now < s.endsAt && matchesAll(h.compiled, labels)) out.push(s.id);
    }
    return out;
  }

  /** The next time a silence starts or ends after `now` (when suppression must be looked at again). */
  nextChange(now: number): number {
    let next = Infinity;
    for (const { silence: s } of this.held.values()) {
      if (s.startsAt > now) next = Math.min(next, s.startsAt);
      else if (s.endsAt > now) next = Math.min(next, s.endsAt);
    }
    return next;
  }

  get size(): number {
    return this.held.size;
  }

  private prune(now: number): void {
    for (const [id, h] of this.held) if (h.silence.endsAt + SILENCE_RETENTION_MS <= now) this.held.delete(id);
  }
}

function bad(message: string): VigilError {
  return new VigilError('BAD_REQUEST', message);
}
