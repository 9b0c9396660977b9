// The typed ActorRef handed to callers. It points at a cell; if that cell has stopped and
// another actor now lives at the same path (a passivated service re-spawned, a subtree
// restarted by its parent), the ref follows the path to it, so refs survive restarts.
import { VigilError } from '../../protocols/index.ts';
import type { Cell } from './cell.ts';
import { DEFAULT_ASK_TIMEOUT_MS } from './defaults.ts';
import type { ActorRef, TimerHandle } from './types.ts';

export class CellRef<M> implements ActorRef<M> {
  constructor(private cell: Cell<M>) {}

  get path(): string {
    return this.cell.path;
  }

  tell(msg: M): void {
    this.current().tell(msg);
  }

  ask<R>(make: (reply: (result: R) => void) => M, timeoutMs: number = DEFAULT_ASK_TIMEOUT_MS): Promise<R> {
    const cell = this.current();
    if (cell.status === 'stopped') {
      return Promise.reject(new VigilError('UNAVAILABLE', `${cell.path} is stopped`));
    }
    const clock = cell.host.clock;
    return new Promise<R>((resolve, reject) => {
      let done = false;
      const timer: { handle?: TimerHandle } = {};
      const finish = (): void => {
        done = true;
        if (timer.handle !== undefined) clock.clearTimeout(timer.handle);
        cell.asks?.delete(fail);
      };
      const fail = (err: Error): void => {
        if (done) return;
        finish();
        reject(err);
      };
      const reply = (result: R): void => {
        if (done) return;
        finish();
        resolve(result);
      };
      let msg: M;
      try {
        msg = make(reply);
      } catch (err) {
        reject(new VigilError('BAD_REQUEST', `ask ${cell.path}: building the message failed`, { cause: err }));
        return;
      }
      if (done) return; // answered while being built
      timer.handle = clock.setTimeout(
        () => fail(new VigilError('TIMEOUT', `${cell.path} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      (cell.asks ??= new Set()).add(fail);
      cell.tell(msg);
    });
  }

  private current(): Cell<M> {
    const c = this.cell;
    if (c.status !== 'stopped') return c;
    const next = c.host.lookup(c.path) as Cell<M> | undefined;
    if (next) this.cell = next;
    return this.cell;
  }
}
