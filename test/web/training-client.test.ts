/**
 * @file The page's worker client (src/web/training-client.ts) against a fake worker that answers
 * as a session does: answers matched by requestId in any order, a `failed` rejecting only its
 * own request, configures answered in order, stale runs' updates dropped, and failures nobody
 * awaits reported to the page.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SessionCommand, SessionEvent, SessionUpdate } from '../../src/lab/live/session-messages.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { SessionFailure, TrainingClient, type WorkerLike } from '../../src/web/training-client.js';

/** Records what the client posts and lets the test answer with events. */
class FakeWorker implements WorkerLike {
  readonly posted: SessionCommand[] = [];
  private messageListener: ((event: MessageEvent<SessionEvent>) => void) | null = null;
  private errorListener: ((event: ErrorEvent) => void) | null = null;

  postMessage(message: SessionCommand): void {
    this.posted.push(message);
  }

  addEventListener(type: 'message' | 'error', listener: ((event: MessageEvent<SessionEvent>) => void) | ((event: ErrorEvent) => void)): void {
    if (type === 'message') this.messageListener = listener as (event: MessageEvent<SessionEvent>) => void;
    else this.errorListener = listener as (event: ErrorEvent) => void;
  }

  send(event: SessionEvent): void {
    this.messageListener!({ data: event } as MessageEvent<SessionEvent>);
  }

  crash(message: string): void {
    this.errorListener!({ message } as ErrorEvent);
  }

  requestIdOf(index: number): number {
    const command = this.posted[index]!;
    assert.ok('requestId' in command, `command ${index} (${command.type}) has no requestId`);
    return command.requestId;
  }
}

function update(runId: number, step: number): SessionUpdate {
  return {
    runId,
    state: 'running',
    step,
    steps: 100,
    stepsPerSecond: 1,
    curve: [],
    probes: [],
    losses: [],
    layers: null,
    watchedUnit: 0,
    divergedAtStep: null,
    summary: null,
  };
}

const inference = { estimator: 'ema' as const, oneAtATime: false };

describe('TrainingClient', () => {
  test('answers find their request by requestId, in any order', async () => {
    const worker = new FakeWorker();
    const client = new TrainingClient(worker);
    const first = client.classify({ kind: 'test', index: 3 }, inference);
    const second = client.save();
    const [firstId, secondId] = [worker.requestIdOf(0), worker.requestIdOf(1)];
    assert.notEqual(firstId, secondId);
    worker.send({ type: 'checkpoint', requestId: secondId, bytes: new Uint8Array([1]), fileName: 'bnlab-with-bn.safetensors' });
    worker.send({ type: 'classified', requestId: firstId, probabilities: [1], pixels: new Uint8Array(784), label: 7 });
    assert.equal((await first).label, 7);
    assert.equal((await second).fileName, 'bnlab-with-bn.safetensors');
  });

  test("a failed event rejects its own request with the session's message, and only that one", async () => {
    const worker = new FakeWorker();
    const client = new TrainingClient(worker);
    const load = client.load(new Uint8Array(8), 'bad.safetensors');
    const confusion = client.confusion(inference);
    worker.send({ type: 'failed', requestId: worker.requestIdOf(0), command: 'load', message: 'bad.safetensors is not a readable safetensors file' });
    await assert.rejects(load, (error: unknown) => error instanceof SessionFailure && error.command === 'load' && /not a readable/.test(error.message));
    worker.send({ type: 'confusion', requestId: worker.requestIdOf(1), matrix: [], accuracy: 0.5, inference });
    assert.equal((await confusion).accuracy, 0.5);
  });

  test('configures are answered in order; a failed one rejects the oldest waiting', async () => {
    const worker = new FakeWorker();
    const client = new TrainingClient(worker);
    const config = resolveTrainConfig({});
    const a = client.configure(config, 'bn', 'auto');
    const b = client.configure(config, 'bn', 'auto');
    worker.send({ type: 'failed', requestId: null, command: 'configure', message: 'MNIST could not be fetched' });
    worker.send({ type: 'configured', runId: 2, backend: 'wasm relaxed-simd', network: 'With Batch Norm', norm: 'bn' });
    await assert.rejects(a, /MNIST could not be fetched/);
    assert.equal((await b).runId, 2);
    assert.deepEqual(
      worker.posted.map((command) => command.type),
      ['configure', 'configure'],
    );
  });

  test('updates of an older run than the latest configured are dropped', async () => {
    const worker = new FakeWorker();
    const client = new TrainingClient(worker);
    const seen: Array<[number, number]> = [];
    client.onUpdate((u) => seen.push([u.runId, u.step]));
    worker.send({ type: 'update', update: update(1, 10) });
    const reset = client.configure(resolveTrainConfig({}), 'none', 'auto');
    worker.send({ type: 'update', update: update(1, 20) }); // still the current run: the reset has not been answered
    worker.send({ type: 'configured', runId: 2, backend: 'float32', network: 'Without Batch Norm', norm: 'none' });
    await reset;
    worker.send({ type: 'update', update: update(1, 30) }); // posted before the reset took effect
    worker.send({ type: 'update', update: update(2, 0) });
    assert.deepEqual(seen, [
      [1, 10],
      [1, 20],
      [2, 0],
    ]);
  });

  test('failures nobody awaits reach onFailure; a crashed worker rejects every waiting request', async () => {
    const worker = new FakeWorker();
    const client = new TrainingClient(worker);
    const failures: string[] = [];
    client.onFailure((failure) => failures.push(`${failure.command}: ${failure.message}`));
    client.play();
    worker.send({ type: 'failed', requestId: null, command: 'play', message: 'no network yet: configure the session first' });
    const waiting = client.save();
    worker.crash('SyntaxError in training-worker.js');
    await assert.rejects(waiting, /the training worker stopped: SyntaxError in training-worker\.js/);
    assert.deepEqual(failures, [
      'play: no network yet: configure the session first',
      'configure: the training worker stopped: SyntaxError in training-worker.js',
    ]);
  });
});
