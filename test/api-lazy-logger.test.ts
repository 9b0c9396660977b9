// api/lazy-logger.ts: a request's child logger is made at its first line written, with the
// bindings it was given (nested children merged), and writes the same lines a pino child would.
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import { lazyChild } from '../api/lazy-logger.ts';

function capture(level: string): { log: pino.Logger; lines: Array<Record<string, unknown>>; children: () => number } {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  const log = pino({ level, redact: { paths: ['key'], censor: '[redacted]' } }, out);
  let made = 0;
  const child = log.child.bind(log);
  log.child = ((b: pino.Bindings, o?: pino.ChildLoggerOptions) => { made++; return child(b, o); }) as unknown as typeof log.child;
  return { log, lines, children: () => made };
}

describe('api: lazy request loggers', () => {
  it('makes no pino child for lines below the level, and one for the first line written', async () => {
    const { log, lines, children } = capture('info');
    const req = lazyChild(log, { reqId: 'r1' }, {});
    const tenant = req.child({ tenant: 'acme' });
    tenant.debug({ key: 'k' }, 'not written');
    assert.equal(typeof req.info, 'function');
    assert.equal(children(), 0, 'nothing made for a debug line at info');
    tenant.warn({ key: 'secret' }, 'written');
    tenant.error('again');
    await new Promise((r) => setImmediate(r));
    assert.equal(children(), 1, 'one child, made once');
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[0]!.reqId, lines[0]!.tenant, lines[0]!.key, lines[0]!.msg], ['r1', 'acme', '[redacted]', 'written']);
  });

  it('follows a level set on it, and makes a child with options of its own at once', () => {
    const { log, lines, children } = capture('info');
    const req = lazyChild(log, { reqId: 'r2' });
    req.level = 'debug';
    req.debug('now written');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.reqId, 'r2');
    lazyChild(log, { reqId: 'r3' }, { level: 'trace' });
    assert.equal(children(), 2);
  });
});
