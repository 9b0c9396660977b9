// The look at a connection's first bytes (api/refusals/head.ts): what it reads plainly, and
// that anything else gives undefined (the connection then goes to Node's parser untouched).
import assert from 'node:assert/strict';
import { MAX_HEAD_BYTES, requestHead } from '../api/refusals/index.ts';
import { SeededRng } from '../actors/runtime/index.ts';

const head = (text: string) => requestHead(Buffer.from(text, 'latin1'));

describe('refusals: the first request head of a connection', () => {
  it('reads the method, the path without its query, and the Authorization header', () => {
    assert.deepEqual(head('POST /v1/metrics?x=1 HTTP/1.1\r\nHost: a\r\nauthorization: Bearer k-1\r\ncontent-length: 2\r\n\r\n{}'),
      { method: 'POST', path: '/v1/metrics', authorization: 'Bearer k-1' });
    assert.deepEqual(head('GET /v1/usage HTTP/1.0\r\nAUTHORIZATION:Bearer  k \r\n\r\n'), { method: 'GET', path: '/v1/usage', authorization: 'Bearer  k' });
    assert.deepEqual(head('POST /api/v1/write HTTP/1.1\r\nHost: a\r\n\r\n'), { method: 'POST', path: '/api/v1/write', authorization: undefined });
  });

  it('gives undefined for whatever it does not read plainly', () => {
    const odd = [
      'POST /v1/metrics HTTP/1.1\r\nAuthorization: Bearer k\r\n', // not whole yet
      'POST /v1/metrics HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n', // twice
      'POST /v1/metrics HTTP/1.1\r\nAuthorization: Bearer a\r\n  folded\r\n\r\n', // obsolete folding
      'POST http://host/v1/metrics HTTP/1.1\r\n\r\n', // absolute form
      'post /v1/metrics HTTP/1.1\r\n\r\n', // lower-case method
      'POST /v1/metrics HTTP/2.0\r\n\r\n',
      'POST  /v1/metrics HTTP/1.1\r\n\r\n',
      'POST /v1/metrics\r\n\r\n',
      `POST /v1/metrics HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`, // longer than Node takes
    ];
    for (const text of odd) assert.equal(head(text), undefined, JSON.stringify(text.slice(0, 80)));
  });

  it('never throws on bytes of any kind (10,000 generated)', () => {
    const rng = new SeededRng(7);
    const parts = ['POST ', 'GET ', '/v1/metrics', '?', ' HTTP/1.1', '\r\n', '\r\n\r\n', 'Authorization: Bearer k', ':', ' ', '\t', '\u00ff', '\0'];
    for (let i = 0; i < 10_000; i++) {
      const n = Math.floor(rng.next() * 12);
      const text = Array.from({ length: n }, () => parts[Math.floor(rng.next() * parts.length)]!).join('');
      const got = head(text);
      if (got) assert.ok(text.startsWith(`${got.method} ${got.path}`));
    }
  });
});
