// What the stores share: the filters and pages of event queries. Each store's own face is
// in its folder: tsdb/ (series and events), graph/, cache/, audit/; writer/ feeds tsdb.
import type { IncidentStatus, TimeRange } from '../protocols/index.ts';

export interface PageQuery extends TimeRange {
  limit?: number;
  cursor?: string;
}

export interface EventFilter extends PageQuery {
  service?: string;
  metric?: string;
  /** alerts only: those that joined this incident */
  incident?: string;
}

export interface IncidentFilter extends PageQuery {
  status?: IncidentStatus;
  service?: string;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
