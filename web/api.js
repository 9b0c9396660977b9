// The public API as the page uses it: one fetch wrapper with the tenant's key, and failures
// that keep the API's status and code (a 404 shows as "not available": dom.js failure).
/* global fetch, localStorage, URLSearchParams */

const KEY = 'vigil.key';
let key = localStorage.getItem(KEY) || '';

export const getKey = () => key;
export function setKey(k) {
  key = k;
  if (k) localStorage.setItem(KEY, k);
  else localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, init = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { ...init, headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = body.error ?? {};
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? `HTTP ${res.status}`);
  }
  return body;
}

export const post = (path, body = {}) => api(path, { method: 'POST', body: JSON.stringify(body) });

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
