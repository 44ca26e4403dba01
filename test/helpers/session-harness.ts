/**
 * @file Test helper: a live training session (src/lab/live) on real MNIST and the wasm kernels,
 * driven directly: commands go in with `send`, every event is kept, and `next(type)` waits for the
 * next event of that type.
 */

import type { MnistData } from '../../src/data/mnist.js';
import type { SessionCommand, SessionEvent, SessionUpdate } from '../../src/lab/live/session-messages.js';
import { TrainingSession } from '../../src/lab/live/training-session.js';
import { loadKernels } from '../../src/node/wasm-files.js';

export function openSession(data: Promise<MnistData>) {
  const events: SessionEvent[] = [];
  const waiters: Array<{ match: (event: SessionEvent) => boolean; resolve: (event: SessionEvent) => void }> = [];
  const session = new TrainingSession(data, {
    post(event) {
      events.push(event);
      const index = waiters.findIndex((waiter) => waiter.match(event));
      if (index >= 0) waiters.splice(index, 1)[0]!.resolve(event);
    },
    loadKernels: (choice) => loadKernels(choice),
    yieldToCommands: () => new Promise((resolve) => setImmediate(resolve)),
    version: Promise.resolve('test'),
  });
  const next = <T extends SessionEvent['type']>(type: T, match: (event: Extract<SessionEvent, { type: T }>) => boolean = () => true) =>
    new Promise<Extract<SessionEvent, { type: T }>>((resolve) => {
      waiters.push({
        match: (event) => event.type === type && match(event as Extract<SessionEvent, { type: T }>),
        resolve: resolve as (event: SessionEvent) => void,
      });
    });
  const send = (command: SessionCommand) => session.handle(command);
  const updates = (): SessionUpdate[] =>
    events.filter((event): event is Extract<SessionEvent, { type: 'update' }> => event.type === 'update').map((event) => event.update);
  return { send, next, events, updates };
}
