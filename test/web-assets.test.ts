// The dashboard's files as a node serves them (api/dashboard.ts): the page, its ES modules
// and uPlot from node_modules, each with its content type, revalidated by ETag, under a
// policy that runs scripts from the node only; every module the page imports is served.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import type { NodeHandle } from '../node/index.ts';
import { startTestNode } from './support/api-node.ts';

const WEB = new URL('../web/', import.meta.url);

describe('web: the dashboard files a node serves', function () {
  this.timeout(60_000);
  let node: NodeHandle;
  before(async () => { node = await startTestNode(); });
  after(async () => { await node?.stop(); });

  it('serves the page with a policy that allows scripts from the node only', async () => {
    const res = await fetch(`${node.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    const html = await res.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), 'no inline script (the policy would block it)');
    assert.ok(!/https?:\/\//.test(html.replace(/<!--[\s\S]*?-->/g, '')), 'nothing from another host: the page works offline');
  });

  it('serves every module under web/ and uPlot, with content types, and every import resolves', async () => {
    const files = readdirSync(WEB).filter((f) => f.endsWith('.js') || f.endsWith('.css'));
    assert.ok(files.includes('app.js') && files.includes('style.css'));
    let imports = 0;
    for (const f of files) {
      const res = await fetch(`${node.url}/web/${f}`);
      assert.equal(res.status, 200, f);
      assert.equal(res.headers.get('content-type'), f.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', f);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await res.text(), readFileSync(new URL(f, WEB), 'utf8'), `${f} as on disk`);
      // every import of a module names a file the node serves
      for (const [, stat, dyn] of readFileSync(new URL(f, WEB), 'utf8').matchAll(/^import [^'\n]*from '([^']+)';|import\('([^']+)'\)/gm)) {
        const spec = (stat ?? dyn)!;
        const path = spec.startsWith('./') ? `/web/${spec.slice(2)}` : spec;
        assert.equal((await fetch(`${node.url}${path}`)).status, 200, `${f} imports ${spec}`);
        imports += 1;
      }
    }
    assert.ok(imports >= 10, `the import scan found the modules' imports (${imports})`);
    const js = await fetch(`${node.url}/vendor/uplot/uPlot.esm.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await js.text(), /export \{ uPlot as default \}/);
    const css = await fetch(`${node.url}/vendor/uplot/uPlot.min.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('answers 304 to a matching If-None-Match, and 404 in the error shape for anything else', async () => {
    const first = await fetch(`${node.url}/web/app.js`);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.match(first.headers.get('cache-control') ?? '', /no-cache/);
    const again = await fetch(`${node.url}/web/app.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    for (const path of ['/web/nope.js', '/web/README.md', '/web/index.html', '/web/..%2Fpackage.json', '/vendor/uplot/uPlot.cjs.js', '/vendor/uplot/package.json']) {
      const res = await fetch(`${node.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND', path);
    }
  });
});
