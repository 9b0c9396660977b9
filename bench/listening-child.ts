// A server of bench/ forked with IPC (the control's stand-in, the split's gateway): it sends
// `{ port }` once it listens, and takes any message as the order to stop.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `file` forked with `argv`, once it has sent the port it listens on. */
export async function listeningChild(file: URL, argv: string[], what: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(file), argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number }));
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it listened`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}
