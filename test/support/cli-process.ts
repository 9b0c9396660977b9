// Runs the real `vigil` command (cli/bin/vigil.js) as a child process: to completion, or
// as a long-running node that tests stop with a signal or kill, by pid.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const VIGIL_BIN = fileURLToPath(new URL('../../cli/bin/vigil.js', import.meta.url));

/** Every vigil process a test starts gets a data folder of its own (unless it names one). */
function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'vigil-cli-'));
}

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vigil ...args` to the end (never throws on a non-zero exit). */
export function runVigil(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [VIGIL_BIN, ...args], { env: { ...process.env, VIGIL_DATA: freshDataDir(), ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code !== 'number') return reject(err instanceof Error ? err : new Error(String(err)));
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** stdout lines so far */
  lines: string[];
  stderr(): string;
  /** resolves with the first stdout line `match` accepts */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** sends a signal and resolves with the exit code (null if killed by the signal) */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnVigil(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: { ...process.env, VIGIL_DATA: freshDataDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    lines,
    stderr: () => err,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line in ${timeoutMs} ms; stdout: ${lines.join('\n')}; stderr: ${err}`)), timeoutMs);
        const check = (): void => {
          const hit = lines.find(match);
          if (hit !== undefined) {
            clearTimeout(timer);
            resolve(hit);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`vigil exited with ${child.exitCode}; stdout: ${lines.join('\n')}; stderr: ${err}`));
          } else {
            waiters.push(check);
          }
        };
        void exited.then(() => { for (const w of waiters.splice(0)) w(); });
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }
      return exited;
    },
  };
}

/** A port the OS just handed out and released: nothing listens there (for "unreachable" cases). */

/** A refusal: exit 2, one line on stderr matching `pattern`, nothing on stdout. */
export function oneLineError(r: Finished, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
}
