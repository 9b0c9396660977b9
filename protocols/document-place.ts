// Where in a checked document (a YAML file, or the same shape sent as JSON) a problem stands,
// and the refusal that names it: `tenants.yaml: tenants[1].keys[0].expiresAt must be ... (line 14)`.
// One piece for every schema that checks such documents (the tenants file, runbooks), so a
// refusal reads the same wherever it comes from. Pure: the caller parses, this only points.
import type { Document, LineCounter } from 'yaml';
import { VigilError } from './errors.ts';

/** A place in a document: `['steps', 2, 'webhook', 'url']`. */
export type DocPath = Array<string | number>;

/** `['tenants', 1, 'keys', 0]` → `tenants[1].keys[0]` */
export function placeText(path: DocPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

/** The first problem in a document; `place` is its path, `line` its line when it came as YAML. */
export class DocumentInvalid extends VigilError {
  constructor(readonly place: string, readonly reason: string, readonly source: string, readonly line?: number) {
    super('BAD_REQUEST', `${source}: ${place === '' ? '' : `${place} `}${reason}${line === undefined ? '' : ` (line ${line})`}`);
  }
}

/** A value as a refusal names it: its kind for lists and mappings, else its text (cut at 80). */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The line of the deepest node of `path` the document has (a missing key points at its parent). */
export function lineOfPlace(doc: Document, lines: LineCounter, path: DocPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The document's first syntax error as a reason and its line; undefined when it parsed. */
export function yamlSyntaxError(doc: Document, lines: LineCounter): { reason: string; line: number } | undefined {
  const e = doc.errors[0];
  if (e === undefined) return undefined;
  return { reason: `is not valid YAML: ${e.message.split('\n')[0]}`, line: lines.linePos(e.pos[0]).line };
}
