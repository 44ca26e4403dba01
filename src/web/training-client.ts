/**
 * @file The page's handle on one training Web Worker: typed commands in, typed events out
 * (src/lab/live/session-messages.ts). Requests that carry a requestId resolve with their answer
 * or reject with the worker's `failed` message; `configure` (which has none) resolves with the
 * next `configured`, in order, since the session runs commands in order. Updates of a run older
 * than the latest configured or loaded one are dropped.
 */
import type { BackendChoice } from '../core/backend.js';
import type { ImageSource, InferenceChoice, SessionCommand, SessionEvent, SessionUpdate } from '../lab/live/session-messages.js';
import type { NormKind } from '../nn/spec.js';
import type { TrainConfig } from '../train/config.js';

type EventOf<T extends SessionEvent['type']> = Extract<SessionEvent, { type: T }>;
type FailedEvent = EventOf<'failed'>;

/** What the client needs of a Worker (a fake in a test). */
export interface WorkerLike {
  postMessage(message: SessionCommand): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<SessionEvent>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
}

/** A worker's refusal: the session's own sentence, and which command it refused. */
export class SessionFailure extends Error {
  constructor(
    readonly command: SessionCommand['type'],
    message: string,
  ) {
    super(message);
    this.name = 'SessionFailure';
  }
}

interface Pending {
  resolve(event: SessionEvent): void;
  reject(error: Error): void;
}

export class TrainingClient {
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pendingConfigures: Pending[] = [];
  private readonly updateListeners: Array<(update: SessionUpdate) => void> = [];
  private readonly failureListeners: Array<(failure: SessionFailure) => void> = [];
  /** The newest run this page knows of; updates of older runs are stale. */
  private runId = 0;

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (event) => this.receive(event.data));
    worker.addEventListener('error', (event) => {
      // A worker that cannot start (a missing script, a syntax error) fails every waiting request.
      const failure = new SessionFailure('configure', `the training worker stopped: ${event.message || 'it could not be loaded'}`);
      for (const waiting of [...this.pending.values(), ...this.pendingConfigures.splice(0)]) waiting.reject(failure);
      this.pending.clear();
      for (const listener of this.failureListeners) listener(failure);
    });
  }

  /** Every update of the current run. */
  onUpdate(listener: (update: SessionUpdate) => void): void {
    this.updateListeners.push(listener);
  }

  /** Failures nobody awaits (play, advance, watchUnit, or a worker that stopped). */
  onFailure(listener: (failure: SessionFailure) => void): void {
    this.failureListeners.push(listener);
  }

  /** (Re)builds the network with `norm` at step 0; resolves with its `configured` event (the backend it runs on). */
  configure(config: TrainConfig, norm: NormKind, backend: BackendChoice): Promise<EventOf<'configured'>> {
    return new Promise((resolve, reject) => {
      this.pendingConfigures.push({ resolve: (event) => resolve(event as EventOf<'configured'>), reject });
      this.worker.postMessage({ type: 'configure', config, norm, backend });
    });
  }

  play(): void {
    this.worker.postMessage({ type: 'play' });
  }

  pause(): void {
    this.worker.postMessage({ type: 'pause' });
  }

  advance(steps: number): void {
    this.worker.postMessage({ type: 'advance', steps });
  }

  watchUnit(unit: number): void {
    this.worker.postMessage({ type: 'watchUnit', unit });
  }

  classify(image: ImageSource, inference: InferenceChoice): Promise<EventOf<'classified'>> {
    return this.request<'classified'>((requestId) => ({ type: 'classify', requestId, image, inference }));
  }

  confusion(inference: InferenceChoice): Promise<EventOf<'confusion'>> {
    return this.request<'confusion'>((requestId) => ({ type: 'confusion', requestId, inference }));
  }

  save(): Promise<EventOf<'checkpoint'>> {
    return this.request<'checkpoint'>((requestId) => ({ type: 'save', requestId }));
  }

  load(bytes: Uint8Array, fileName: string): Promise<EventOf<'loaded'>> {
    return this.request<'loaded'>((requestId) => ({ type: 'load', requestId, bytes, fileName }));
  }

  private request<T extends SessionEvent['type']>(command: (requestId: number) => SessionCommand): Promise<EventOf<T>> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve: (event) => resolve(event as EventOf<T>), reject });
      this.worker.postMessage(command(requestId));
    });
  }

  private receive(event: SessionEvent): void {
    switch (event.type) {
      case 'configured':
        this.runId = Math.max(this.runId, event.runId);
        this.pendingConfigures.shift()?.resolve(event);
        return;
      case 'update':
        if (event.update.runId < this.runId) return;
        this.runId = event.update.runId;
        for (const listener of this.updateListeners) listener(event.update);
        return;
      case 'loaded':
        this.runId = Math.max(this.runId, event.runId);
        this.settle(event.requestId, event);
        return;
      case 'classified':
      case 'confusion':
      case 'checkpoint':
        this.settle(event.requestId, event);
        return;
      case 'failed':
        this.fail(event);
        return;
      default:
        event satisfies never;
    }
  }

  private settle(requestId: number, event: SessionEvent): void {
    const waiting = this.pending.get(requestId);
    this.pending.delete(requestId);
    waiting?.resolve(event);
  }

  private fail(event: FailedEvent): void {
    const failure = new SessionFailure(event.command, event.message);
    if (event.requestId !== null && this.pending.has(event.requestId)) {
      const waiting = this.pending.get(event.requestId)!;
      this.pending.delete(event.requestId);
      waiting.reject(failure);
    } else if (event.command === 'configure' && this.pendingConfigures.length > 0) {
      this.pendingConfigures.shift()!.reject(failure);
    } else {
      for (const listener of this.failureListeners) listener(failure);
    }
  }
}
