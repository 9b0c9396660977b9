// The `vigil` command's surface, on real processes: help everywhere (exit 0), and every
// usage mistake as exactly one line on stderr with exit status 2.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVigil, oneLineError } from './support/cli-process.ts';
import { freePort } from './support/local-servers.ts';

describe('cli: help, version and usage errors', function () {
  this.timeout(60_000);

  it('prints help for every command with exit 0', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--help'], /Usage: vigil <command>[\s\S]*start[\s\S]*demo[\s\S]*ctl tree[\s\S]*tail/],
      [['start', '--help'], /Usage: vigil start[\s\S]*--config FILE[\s\S]*--port N/],
      [['demo', '-h'], /Usage: vigil demo[\s\S]*--fault-after/],
      [['ctl', '--help'], /Usage: vigil ctl[\s\S]*restart <actor-path>/],
      [['ctl', 'tree', '--help'], /Usage: vigil ctl/],
      [['key', '--help'], /Usage: vigil key hash/],
      [['detect', '--help'], /Usage: vigil detect[\s\S]*anomaly_score,anomaly[\s\S]*--skip-bad/],
      [['tail', '--help'], /Usage: vigil tail[\s\S]*--api-key KEY[\s\S]*--no-reconnect/],
    ];
    const results = await Promise.all(cases.map(([args]) => runVigil(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${cases[i]![0].join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, cases[i]![1]);
    });
  });

  it('prints the version of package.json', async () => {
    const r = await runVigil(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^vigil \d+\.\d+\.\d+\n$/);
  });

  it('refuses unknown commands, flags and bad values in one line with exit 2', async () => {
    const [none, cmd, flag, port, dur, sub, extra] = await Promise.all([
      runVigil([]),
      runVigil(['launch']),
      runVigil(['start', '--prot', '1']),
      runVigil(['start', '--port', 'abc']),
      runVigil(['demo', '--history', 'long']),
      runVigil(['ctl', 'reboot']),
      runVigil(['key', 'hash', 'a', 'b']),
    ]);
    oneLineError(none, /^vigil: missing command \(see vigil --help\)$/);
    oneLineError(cmd, /^vigil: unknown command "launch"/);
    oneLineError(flag, /^vigil start: unknown option --prot \(see vigil start --help\)$/);
    oneLineError(port, /^vigil start: --port must be an integer 0\.\.65535 \(got "abc"\)/);
    oneLineError(dur, /^vigil demo: --history must be a duration/);
    oneLineError(sub, /^vigil ctl: unknown command "reboot"/);
    oneLineError(extra, /^vigil key hash: unexpected argument "b"/);
  });

  it('refuses an invalid configuration file naming the key, before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'http:\n  port: abc\n');
    oneLineError(await runVigil(['start', '--config', file]), new RegExp(`^config error: http\\.port must be an integer 0\\.\\.65535 \\(got "abc"\\) in ${file}$`));
    oneLineError(await runVigil(['start'], { VIGIL_LOG_LEVEL: 'loud' }), /^config error: VIGIL_LOG_LEVEL must be one of trace, debug/);
  });

  it('says so in one line when the node is not reachable or no admin key is given', async () => {
    const port = await freePort(); // nothing listens there
    oneLineError(await runVigil(['ctl', 'tree', '--url', `http://127.0.0.1:${port}`, '--admin-key', 'k']),
      new RegExp(`^vigil ctl tree: cannot reach the node at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    oneLineError(await runVigil(['ctl', 'tree'], { VIGIL_ADMIN_API_KEY: '' }), /no admin key: pass --admin-key or set VIGIL_ADMIN_API_KEY/);
    oneLineError(await runVigil(['ctl', 'restart', '--admin-key', 'k']), /missing the actor path/);
  });

  it('checks a configuration with vigil config check: the effective result, or the error', async () => {
    const ok = await runVigil(['config', 'check', '--config', 'config/vigil.example.yaml', '--port', '7500'], { VIGIL_LOG_LEVEL: 'debug', VIGIL_CONFIG: '' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^http:\n {2}host: 127\.0\.0\.1\n {2}port: 7500\n/m);
    assert.match(ok.stdout, /level: debug/);
    assert.match(ok.stdout, /- id: acme/);
    oneLineError(await runVigil(['config', 'check', '--log-level', 'loud'], { VIGIL_CONFIG: '' }), /^config error: --log-level must be one of/);
  });

  it('hashes a key the way the configuration stores it', async () => {
    const r = await runVigil(['key', 'hash', 'abc']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n');
  });
});
