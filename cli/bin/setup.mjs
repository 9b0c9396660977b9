#!/usr/bin/env node
// Set-up before `npm run demo` / `npm test` on a fresh clone: `npm install` when
// node_modules is missing or older than package.json; with --services, also starts NATS
// and Redis (the commands of DESIGN.md §5) when they are installed but not answering.
// Plain Node, no dependencies: it runs before they exist.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function installed() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) || !existsSync(join(root, 'node_modules', 'tsx'))) return false;
  return statSync(marker).mtimeMs >= statSync(join(root, 'package.json')).mtimeMs;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

function answers(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const SERVICES = [
  {
    name: 'NATS', port: 4222, bin: '/usr/sbin/nats-server', dirs: ['/var/lib/nats-server'],
    cmd: ['start-stop-daemon', '--start', '--oknodo', '--background', '--exec', '/usr/sbin/nats-server', '--',
      '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log'],
  },
  {
    name: 'Redis', port: 6379, bin: 'redis-server', dirs: ['/var/lib/redis', '/var/log/redis'],
    cmd: ['redis-server', '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
      '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'],
  },
];

async function ensureService(s) {
  if (await answers(s.port)) return;
  const has = s.bin.startsWith('/') ? existsSync(s.bin) : spawnSync('sh', ['-c', `command -v ${s.bin}`]).status === 0;
  if (!has) {
    console.warn(`setup: ${s.name} is not installed and not answering on ${s.port}; tests that need it say they were skipped`);
    return;
  }
  try {
    for (const d of s.dirs) mkdirSync(d, { recursive: true });
  } catch {
    // not root: the start below says what is wrong
  }
  spawnSync(s.cmd[0], s.cmd.slice(1), { stdio: 'inherit' });
  for (let i = 0; i < 50; i++) {
    if (await answers(s.port)) {
      console.log(`setup: started ${s.name} on 127.0.0.1:${s.port}`);
      return;
    }
    await sleep(100);
  }
  console.warn(`setup: could not start ${s.name} on ${s.port}; tests that need it say they were skipped`);
}

if (!installed()) {
  console.log('setup: installing dependencies (npm install)');
  if (!run('npm', ['install', '--no-audit', '--no-fund'])) {
    console.error('setup: npm install failed');
    process.exit(1);
  }
}
if (process.argv.includes('--services')) {
  for (const s of SERVICES) await ensureService(s);
}
