// A thin HTTP client for the gateway tests: JSON in, status + JSON out.
import { encodeMetricBatch, type SeriesInput } from '../../protocols/index.ts';

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ErrorReply {
  error: { code: string; message: string };
}

export class ApiClient {
  constructor(readonly url: string, readonly key?: string) {}

  withKey(key: string | undefined): ApiClient {
    return new ApiClient(this.url, key);
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.key !== undefined) h.authorization = `Bearer ${this.key}`;
    let payload: string | Uint8Array | undefined;
    if (body instanceof Uint8Array || typeof body === 'string') payload = body;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !h['content-type']) h['content-type'] = 'application/json';
    const res = await fetch(this.url + path, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = unknown>(path: string): Promise<Reply<T>> {
    return this.request<T>('GET', path);
  }

  postMetrics(series: SeriesInput[] | unknown): Promise<Reply<{ accepted: number } & Partial<ErrorReply>>> {
    return this.request('POST', '/v1/metrics', { series });
  }

  postProtobuf(series: SeriesInput[]): Promise<Reply<{ accepted: number } & Partial<ErrorReply>>> {
    return this.request('POST', '/v1/metrics', encodeMetricBatch('ignored', series), { 'content-type': 'application/x-protobuf' });
  }

  async samples(service: string, metric: string): Promise<Array<[number, number]>> {
    const r = await this.get<{ samples: Array<[number, number]> }>(`/v1/series?service=${service}&metric=${metric}`);
    if (r.status !== 200) throw new Error(`GET /v1/series: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.samples;
  }
}

/** Polls until `check` returns a value (the node's pipeline is asynchronous). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
