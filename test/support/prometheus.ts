// A real Prometheus (Debian's `prometheus`) a test runs for itself: its configuration written to
// the test's folder, a free port, its log kept for failure messages, its own /metrics summed, and
// a stop that waits for the process (SIGKILL after 10 s).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './local-servers.ts';

/** The installed `prometheus`, or undefined (the test then skips, saying so). */
export function prometheusBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface PrometheusOptions {
  binary: string;
  /** the test's folder: prometheus.yml and the tsdb go here */
  dir: string;
  /** the lines of prometheus.yml */
  config: string[];
  /** flags beside the config file, tsdb path, listen address and log level */
  args?: string[];
}

export class TestPrometheus {
  private log = '';

  private constructor(private readonly child: ChildProcess, readonly url: string) {
    child.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
  }

  static async start(o: PrometheusOptions): Promise<TestPrometheus> {
    const port = await freePort();
    const config = join(o.dir, 'prometheus.yml');
    await writeFile(config, o.config.join('\n'));
    const child = spawn(o.binary, [
      `--config.file=${config}`, `--storage.tsdb.path=${join(o.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn', ...(o.args ?? []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new TestPrometheus(child, `http://127.0.0.1:${port}`);
  }

  /** The end of what Prometheus logged (warnings and errors), for a failure's message. */
  logTail(): string {
    return this.log.slice(-2000);
  }

  /** The sum of a metric over all its label sets on Prometheus' own /metrics (0 when absent). */
  async metricSum(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  }

  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = once(child, 'exit');
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL'); }, 10_000);
    await exited;
    clearTimeout(timer);
  }
}
