import { setImmediate as settled } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InvocationQueue } from '../../src/hub/invocation-queue.js';

/** Tasks that record when they start and finish only when the test says so. */
class Tasks {
  readonly started: string[] = [];
  private readonly endings = new Map<string, { finish: () => void; fail: (error: Error) => void }>();

  task(name: string): () => Promise<void> {
    return () => {
      this.started.push(name);
      return new Promise<void>((finish, fail) => this.endings.set(name, { finish, fail }));
    };
  }

  /** Ends the task and lets the queue hear of it. */
  async finish(name: string): Promise<void> {
    this.endings.get(name)!.finish();
    await settled();
  }

  async fail(name: string): Promise<void> {
    this.endings.get(name)!.fail(new Error(`${name} failed`));
    await settled();
  }
}

function queueOf(parallelLimit: number): { queue: InvocationQueue; tasks: Tasks; startedFromQueue: () => number } {
  let startedFromQueue = 0;
  const queue = new InvocationQueue(parallelLimit, () => startedFromQueue++);
  return { queue, tasks: new Tasks(), startedFromQueue: () => startedFromQueue };
}

describe('InvocationQueue', () => {
  it('runs at most the parallel limit at once; the rest wait and start in arrival order', async () => {
    const { queue, tasks } = queueOf(2);
    for (const name of ['1', '2', '3', '4', '5']) queue.enqueue(tasks.task(name));
    expect(tasks.started).toEqual(['1', '2']);
    expect(queue.waitingCount).toBe(3);

    await tasks.finish('2');
    expect(tasks.started).toEqual(['1', '2', '3']);
    await tasks.finish('3');
    await tasks.finish('1');
    expect(tasks.started).toEqual(['1', '2', '3', '4', '5']);
    expect(queue.waitingCount).toBe(0);
  });

  it('tells its owner of each waiting task it starts, not of those that start at once', async () => {
    const { queue, tasks, startedFromQueue } = queueOf(1);
    queue.enqueue(tasks.task('1'));
    queue.enqueue(tasks.task('2'));
    queue.enqueue(tasks.task('3'));
    expect(startedFromQueue()).toBe(0);
    await tasks.finish('1');
    expect(startedFromQueue()).toBe(1);
    await tasks.finish('2');
    await tasks.finish('3');
    expect(startedFromQueue()).toBe(2);
    queue.enqueue(tasks.task('4'));
    expect(tasks.started.at(-1)).toBe('4');
    expect(startedFromQueue()).toBe(2);
  });

  it('frees the place of a task that fails', async () => {
    const { queue, tasks } = queueOf(1);
    queue.enqueue(tasks.task('fails'));
    queue.enqueue(tasks.task('next'));
    await tasks.fail('fails');
    expect(tasks.started).toEqual(['fails', 'next']);
  });

  it('once disposed, drops the waiting tasks, starts none when a running one ends, and takes no new ones', async () => {
    const { queue, tasks, startedFromQueue } = queueOf(1);
    queue.enqueue(tasks.task('running'));
    queue.enqueue(tasks.task('waiting'));
    queue.dispose();
    expect(queue.waitingCount).toBe(0);
    await tasks.finish('running');
    queue.enqueue(tasks.task('late'));
    expect(tasks.started).toEqual(['running']);
    expect(startedFromQueue()).toBe(0);
  });
});
