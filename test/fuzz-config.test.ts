// Fuzz and property suite of the configuration and command-line surfaces, in process:
// the node's YAML (cluster/config-load.ts) and its environment variables, the tenants file
// (parsed, and reloaded into a running Tenancy, which must keep its tenants when the file is
// refused), and the CLI's arguments (cli/args.ts and every command's own flags through the
// dispatcher). Properties: a result or a typed refusal (VigilError with a code and a one-line
// message), never another exception; a CLI refusal is exit 2 with one line on stderr and
// nothing on stdout; a refused tenants file changes nothing. A few real `vigil` processes end
// the suite: exit 2, one line.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { parse as parseYaml, stringify as yamlText } from 'yaml';
import { Tenancy, hashKey } from '../api/index.ts';
import { parseTenantsYaml } from '../api/tenancy/index.ts';
import { int, duration, parse, str, type OptionSpec } from '../cli/args.ts';
import { runCli } from '../cli/run.ts';
import { defaultConfig } from '../cluster/index.ts';
import { loadConfig, parseConfigYaml } from '../cluster/config-load.ts';
import { VigilError } from '../protocols/index.ts';
import { runVigil } from './support/cli-process.ts';
import { counted, FUZZ_SEED, runs, tally, type Surface } from './support/fuzz.ts';
import { brokenJson, brokenText, nastyString, type Json } from './support/fuzz-inputs.ts';

const EXAMPLE = readFileSync(new URL('../config/vigil.example.yaml', import.meta.url), 'utf8');
const TENANTS = readFileSync(new URL('../config/tenants.yaml', import.meta.url), 'utf8');

/** YAML that has hurt parsers: alias bombs, tags, deep nesting, duplicate keys, merge keys, huge numbers. */
const NASTY_YAML = [
  `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
  'http: !!js/function "function () { return 1 }"\n', 'http: !!binary aGVsbG8=\n', 'node: !<tag:yaml.org,2002:js/undefined> ""\n',
  `${'a:\n '.repeat(500)}x: 1\n`, `${'['.repeat(2000)}`, 'http: {port: 1}\nhttp: {port: 2}\n', 'base: &b {port: 7400}\nhttp:\n  <<: *b\n',
  'http: {port: 99999999999999999999999}\n', 'http: {port: 0x1F40}\n', 'http: {port: .inf}\n', 'http: {port: -.inf}\n', 'http: {bodyLimitBytes: .nan}\n',
  'tenants: [{id: __proto__, keyHashes: []}]\n', '__proto__: {polluted: true}\n', 'constructor: {prototype: {x: 1}}\n', '\uFEFFnode: {id: a}\n', '\t node: x\n',
  '---\n---\n', '%YAML 9.9\n---\nx: 1\n', 'node: {id: "\\ud800"}\n', `node: {id: ${'a'.repeat(100_000)}}\n`, '? [a, b]\n: c\n', '*undefinedAlias\n', '',
];

interface Outcome { ok: boolean; error?: unknown }

function attempt(fn: () => unknown): Outcome {
  try {
    fn();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A refusal must be a VigilError with a code and a one-line message; anything else is a bug. */
function assertTyped(o: Outcome, codes: readonly string[], input: string): void {
  if (o.ok) return;
  const e = o.error;
  assert.ok(VigilError.is(e), `not a VigilError (${(e as Error)?.constructor?.name}: ${(e as Error)?.message}) for ${JSON.stringify(input.slice(0, 300))}`);
  assert.ok(codes.includes(e.code), `code ${e.code} for ${JSON.stringify(input.slice(0, 200))}`);
  // a message may quote what was sent, but never grows past it (no amplification of a big input)
  assert.ok(e.message.length > 0 && e.message.length < input.length + 1000, `message of ${e.message.length} characters for ${input.length}`);
}

function outcome(surface: Surface, o: Outcome): void {
  tally(surface, o.ok ? 'accepted' : 'refused');
}

const property = <T>(surface: Surface, arb: fc.Arbitrary<T>, check: (x: T) => void | Promise<void>) => {
  const p = fc.asyncProperty(arb, async (x) => { await check(x); });
  return fc.assert(p, { numRuns: runs(surface), seed: FUZZ_SEED, endOnFailure: true });
};

/**
 * YAML text broken in one place: as text, as structure, or one of the known troublemakers.
 * Each input is one part of the base (a section of the node config, one tenant), so an input
 * parses in a fraction of a millisecond; now and then the whole base.
 */
function brokenYaml(base: string, parts: (doc: Record<string, Json>) => Json[]): fc.Arbitrary<string> {
  const whole = parseYaml(base) as Record<string, Json>;
  const pieces = parts(whole).map((p) => ({ text: yamlText(p), json: p }));
  const piece = fc.constantFrom(...pieces);
  return fc.oneof(
    { weight: 8, arbitrary: piece.chain((p) => brokenText(p.text)) },
    { weight: 8, arbitrary: piece.chain((p) => brokenJson(p.json)).map((j) => yamlText(j)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );
}

const sections = (doc: Record<string, Json>): Json[] => Object.entries(doc).map(([k, v]) => ({ [k]: v }));
const tenants = (doc: Record<string, Json>): Json[] => (doc.tenants as Json[]).map((t) => ({ tenants: [t] }));

describe('fuzz: configuration and command-line surfaces (in process)', function () {
  this.timeout(300_000);

  it('known troublemakers and whole broken files, once each, for both YAML surfaces', async () => {
    const wholes = fc.sample(fc.tuple(brokenText(EXAMPLE), brokenText(TENANTS)), { numRuns: 20, seed: FUZZ_SEED });
    for (const text of [...NASTY_YAML, ...wholes.flat()]) {
      const node = attempt(() => parseConfigYaml(text, 'fuzz.yaml'));
      assertTyped(node, ['CONFIG_INVALID', 'BAD_REQUEST'], text);
      outcome('yaml: node configuration', node);
      const t = attempt(() => parseTenantsYaml(text, 'tenants.yaml'));
      assertTyped(t, ['BAD_REQUEST', 'CONFIG_INVALID'], text);
      outcome('yaml: tenants file', t);
    }
    // the alias bomb is refused as YAML, in words
    assert.match((attempt(() => parseConfigYaml(NASTY_YAML[0]!, 'fuzz.yaml')).error as Error).message, /not valid YAML: Excessive alias count/);
    assert.match((attempt(() => parseTenantsYaml(NASTY_YAML[0]!, 'tenants.yaml')).error as Error).message, /not valid YAML: Excessive alias count/);
  });

  it('node configuration YAML: a config or CONFIG_INVALID naming the place, never another error', async () => {
    await property('yaml: node configuration', brokenYaml(EXAMPLE, sections), (text) => {
      const o = attempt(() => parseConfigYaml(text, 'fuzz.yaml'));
      assertTyped(o, ['CONFIG_INVALID', 'BAD_REQUEST'], text);
      outcome('yaml: node configuration', o);
    });
    assert.ok(counted('yaml: node configuration').refused > runs('yaml: node configuration') / 2);
  });

  it('node configuration from environment variables', async () => {
    const names = ['VIGIL_NODE_ID', 'VIGIL_DATA', 'VIGIL_HOST', 'VIGIL_PORT', 'VIGIL_LOG_LEVEL', 'VIGIL_TIER', 'VIGIL_DEGRADATION_DWELL_MS',
      'VIGIL_REMOTE_WRITE_SERVICE_LABELS', 'VIGIL_REMOTE_WRITE_DROP_LABELS', 'VIGIL_NOTIFY_ON_CALL', 'VIGIL_NOTIFY_SRE', 'VIGIL_TENANTS_FILE', 'VIGIL_QUOTA_PREFIX',
      'VIGIL_CLUSTER', 'VIGIL_NATS_URL', 'VIGIL_CLUSTER_NAME', 'VIGIL_CLUSTER_ZONE', 'VIGIL_DEMO_API_KEY', 'VIGIL_ADMIN_API_KEY'];
    const value = fc.oneof(nastyString, fc.constantFrom('0', '-1', '65536', '1e3', 'true', 'yes', 'http://', 'nats://x:-1', 'a,,b', ',', 'debug ', 'robust'));
    const env = fc.dictionary(fc.constantFrom(...names), value, { minKeys: 1, maxKeys: 4 });
    await property('config: environment variables', env, (vars) => {
      const o = attempt(() => loadConfig({ env: vars, base: defaultConfig() }));
      assertTyped(o, ['CONFIG_INVALID', 'BAD_REQUEST'], JSON.stringify(vars));
      outcome('config: environment variables', o);
    });
  });

  it('tenants file YAML: specs or a refusal naming the place and line', async () => {
    await property('yaml: tenants file', brokenYaml(TENANTS, tenants), async (text) => {
      const o = attempt(() => parseTenantsYaml(text, 'tenants.yaml'));
      assertTyped(o, ['BAD_REQUEST', 'CONFIG_INVALID'], text);
      if (!o.ok) assert.match((o.error as Error).message, /^tenants\.yaml: /, 'names the file');
      outcome('yaml: tenants file', o);
    });
  });

  it('a running tenancy reloading a broken tenants file keeps its tenants and keys, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-tenants-'));
    const file = join(dir, 'tenants.yaml');
    const key = 'fuzz-key-0123456789';
    const good = `tenants:\n  - id: fz\n    keys: [{ id: k1, sha256: ${hashKey(key)} }]\n`;
    writeFileSync(file, good);
    const clock = { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: object) => clearTimeout(h as NodeJS.Timeout) };
    const tenancy = await Tenancy.open({ nodeConfig: { tenants: [], auth: {} }, file, clock, log: pino({ level: 'silent' }), watch: false });
    try {
      const surface: Surface = 'yaml: tenants file (reloaded)';
      await property(surface, brokenYaml(good, (d) => [d]), async (text) => {
        const version = tenancy.registry.version;
        const before = JSON.stringify(tenancy.registry.list());
        writeFileSync(file, text);
        const applied = await tenancy.reload();
        if (applied) {
          tally(surface, 'accepted');
          writeFileSync(file, good); // back to the known set for the next input
          assert.equal(await tenancy.reload(), true);
          return;
        }
        tally(surface, 'refused');
        assert.equal(tenancy.registry.version, version, 'a refused file changed the tenants');
        assert.equal(JSON.stringify(tenancy.registry.list()), before);
        assert.deepEqual(tenancy.registry.keys.resolve(key), { kind: 'tenant', tenant: 'fz' }, 'the key still works');
        if (text !== good) assert.ok(tenancy.lastReloadError?.message, 'the refusal is shown');
      });
    } finally {
      tenancy.close();
    }
  });

  it('argument parsing (cli/args.ts): values or a usage error naming the command, for any argv and flag value', async () => {
    const spec: OptionSpec = { url: { type: 'string' }, port: { type: 'string', short: 'p' }, json: { type: 'boolean' }, for: { type: 'string' } };
    const token = fc.oneof(
      fc.constantFrom('--url', '--port', '-p', '--json', '--for', '--json=1', '--url=', '--', '-', '-px', '-pj', '--no-json', '--help', '-h', '--PORT', '--port=-1', '--for=5m'),
      nastyString,
      fc.integer().map(String),
    );
    await property('cli: arguments (in process)', fc.tuple(fc.array(token, { maxLength: 6 }), fc.nat(2)), ([argv, max]) => {
      const o = attempt(() => {
        const p = parse('vigil fuzz', argv, spec, max);
        int('vigil fuzz', p, 'port', 1, 65535);
        duration('vigil fuzz', p, 'for');
        str(p, 'url');
      });
      assertTyped(o, ['BAD_REQUEST'], JSON.stringify(argv));
      // (printed, the message is one line: runCli joins lines; the dispatcher test below checks that)
      if (!o.ok) assert.match((o.error as Error).message, /^vigil fuzz: /);
      outcome('cli: arguments (in process)', o);
    });
  });

  it('every command through the dispatcher with a bad flag: exit 2, one line on stderr, nothing on stdout', async () => {
    const commands = [['start'], ['demo'], ['ctl', 'tree'], ['ctl', 'restart'], ['ctl', 'status'], ['ctl', 'degrade'], ['ctl', 'breaker'], ['ctl', 'nodes'], ['ctl', 'shards'], ['ctl', 'drain'],
      ['detect'], ['tail'], ['key', 'hash'], ['key', 'new'], ['key', 'rotate'], ['config', 'check'], ['rca-eval'], ['backup', 'create'], ['backup', 'list'], ['backup', 'restore'],
      ['no-such-command'], ['key', 'no-such'], ['ctl', 'no-such']];
    const flag = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).map((s) => `--zz-${s}`);
    const rest = fc.array(fc.oneof(nastyString.map((s) => s.replace(/\0/g, '')), fc.constantFrom('--', '--port', '99999', '--json', '-h', '--help', '--url', 'http://127.0.0.1:1', '--data', '/')), { maxLength: 5 });
    const surface: Surface = 'cli: arguments (dispatcher)';
    await property(surface, fc.tuple(fc.constantFrom(...commands), flag, rest), async ([command, bad, tail]) => {
      // the unknown flag comes before anything else: no command ever runs (no node starts, nothing is dialled)
      const argv = [...command, bad, ...tail];
      let out = '';
      let err = '';
      const write = { out: process.stdout.write, err: process.stderr.write };
      process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; }) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
      let code: number;
      try {
        code = await runCli(argv);
      } finally {
        process.stdout.write = write.out;
        process.stderr.write = write.err;
      }
      assert.equal(code, 2, `${JSON.stringify(argv)}: exit ${code} (${err})`);
      assert.equal(out, '', `${JSON.stringify(argv)}: stdout ${out.slice(0, 200)}`);
      assert.match(err, /^[^\n]+\n$/, `${JSON.stringify(argv)}: not one line: ${JSON.stringify(err.slice(0, 300))}`);
      tally(surface, 'refused');
    });
  });

  it('real vigil processes: exit 2 with one line', async function () {
    this.timeout(120_000);
    const cases = [['start', '--port', 'seventy'], ['start', '--zz'], ['ctl', 'degrade', '--level', '9'], ['tail', '--url'], ['detect', '--threshold', '%%'], ['frobnicate', '\u00e9\u0301']];
    for (const argv of cases.slice(0, Math.max(1, runs('cli: arguments (vigil processes)')))) {
      const r = await runVigil(argv, { VIGIL_CONFIG: '', VIGIL_DEMO_API_KEY: '', VIGIL_ADMIN_API_KEY: '' });
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^[^\n]+\n$/, `${argv.join(' ')}: ${JSON.stringify(r.stderr)}`);
      tally('cli: arguments (vigil processes)', 'refused');
    }
  });
});
