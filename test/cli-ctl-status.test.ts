// `vigil ctl status | degrade | breaker` as real processes against a real node (in process
// here: the CLI is the process under test): what they print, what they change on the node,
// and one line with exit 2 for every usage mistake.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { startNode, type NodeHandle } from '../node/index.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { runVigil, oneLineError } from './support/cli-process.ts';

describe('cli: vigil ctl status, degrade and breaker', function () {
  this.timeout(120_000);
  let node: NodeHandle;
  const ctl = (args: string[]) => runVigil(['ctl', ...args, '--url', node.url, '--admin-key', KEYS.admin]);

  before(async () => {
    const config = testConfig();
    config.degradation.dwellMs = 500;
    node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
  });
  after(async () => {
    await node.stop();
  });

  it('status prints the level, what is down and the breakers; --json the whole status', async () => {
    const text = await ctl(['status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^level {5}L0 full \(since /m);
    assert.match(text.stdout, /^down {6}none$/m);
    assert.match(text.stdout, /^ {2}graph_db {6}closed$/m);
    assert.match(text.stdout, /^ {2}ml_inference {2}closed$/m);
    const json = await ctl(['status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout) as { level: number; breakers: Record<string, string>; dependencies: Record<string, string> };
    assert.equal(s.level, 0);
    assert.deepEqual(s.breakers, { graph_db: 'closed', ml_inference: 'closed' });
    assert.equal(s.dependencies.tsdb, 'up');
  });

  it('degrade holds the level for a while, --level 0 drops the hold', async () => {
    const held = await ctl(['degrade', '--level', 'L2', '--for', '10m']);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /level held at least at L2 until .*: now L2 \(no_ml\)/);
    assert.equal(node.engine.status().level, 2);
    assert.match((await ctl(['status'])).stdout, /^override {2}at least L2 until /m);
    const dropped = await ctl(['degrade', '--level', '0']);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.equal(node.engine.status().level, 0);
  });

  it('breaker forces a node breaker open (the level follows), then closes it', async () => {
    const open = await ctl(['breaker', 'ml_inference', 'open']);
    assert.equal(open.code, 0, open.stderr);
    assert.equal(open.stdout, 'breaker ml_inference: forcedOpen\n');
    assert.equal(node.engine.status().level, 1);
    assert.equal((await ctl(['breaker', 'ml_inference', 'close'])).stdout, 'breaker ml_inference: closed\n');
    assert.equal((await ctl(['breaker', 'graph_db', 'disable'])).stdout, 'breaker graph_db: disabled\n');
    assert.equal((await ctl(['breaker', 'graph_db', 'close'])).stdout, 'breaker graph_db: closed\n');
  });

  it('says what is wrong in one line with exit 2', async () => {
    oneLineError(await ctl(['degrade', '--level', '7', '--for', '1m']), /^vigil ctl degrade: --level must be an integer 0\.\.4 \(got "7"\)/);
    oneLineError(await ctl(['degrade', '--level', '2']), /^vigil ctl degrade: missing --for DURATION/);
    oneLineError(await ctl(['degrade', '--for', '1m']), /^vigil ctl degrade: missing --level/);
    oneLineError(await ctl(['degrade', '--level', '2', '--for', 'soon']), /^vigil ctl degrade: --for must be a duration/);
    oneLineError(await ctl(['breaker', 'graph_db', 'smash']), /^vigil ctl breaker: the command must be one of open, close, disable/);
    oneLineError(await ctl(['breaker']), /^vigil ctl breaker: missing the breaker name/);
    oneLineError(await ctl(['breaker', 'nope', 'open']), /^vigil ctl breaker: .*HTTP 404: no breaker named nope/);
    oneLineError(await ctl(['status', '--bogus']), /^vigil ctl status: unknown option --bogus/);
    oneLineError(await runVigil(['ctl', 'status', '--url', node.url, '--admin-key', 'wrong']), /^vigil ctl status: the node refused the admin key/);
    const help = await runVigil(['ctl', 'degrade', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /degrade --level N --for DURATION/);
    assert.equal(node.engine.status().level, 0, 'nothing refused changed the node');
  });
});
