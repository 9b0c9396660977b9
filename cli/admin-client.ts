// Talks to a running node's admin routes for `vigil ctl`. Failures become VigilErrors
// whose code sets the exit status: the node could not be reached or refused the request
// (UNAVAILABLE, UNAUTHORIZED, NOT_FOUND, ... → exit 2); it failed itself (INTERNAL → exit 1).
import type { TreeNode } from '../api/index.ts';
import { VigilError, type ErrorCode } from '../protocols/errors.ts';

export interface AdminTarget {
  url: string;
  adminKey: string;
  /** per request (default 10 s) */
  timeoutMs?: number;
}

export async function fetchTree(t: AdminTarget): Promise<TreeNode> {
  return (await call(t, 'GET', '/v1/admin/tree')) as TreeNode;
}

export async function restartActor(t: AdminTarget, path: string): Promise<void> {
  await call(t, 'POST', '/v1/admin/restart', { path });
}

/** One admin request; the node's JSON answer, or a VigilError whose code sets the exit status. */
export async function call(t: AdminTarget, method: string, route: string, body?: unknown): Promise<unknown> {
  const url = `${t.url.replace(/\/+$/, '')}${route}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${t.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(t.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new VigilError('UNAVAILABLE', `cannot reach the node at ${t.url} (${why}); is it running? (--url)`, { cause: err });
  }
  const text = await res.text();
  if (res.ok) return text === '' ? undefined : JSON.parse(text);
  const reason = errorMessage(text) ?? (text.slice(0, 200) || res.statusText);
  if (res.status === 401 || res.status === 403) {
    throw new VigilError('UNAUTHORIZED', `the node refused the admin key (HTTP ${res.status}: ${reason}); pass --admin-key or set VIGIL_ADMIN_API_KEY`);
  }
  const code: ErrorCode = res.status >= 500 ? 'INTERNAL' : res.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
  throw new VigilError(code, `${method} ${route}: HTTP ${res.status}: ${reason}`);
}

function errorMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? body.error.message : undefined;
  } catch {
    return undefined;
  }
}
