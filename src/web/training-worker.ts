/**
 * @file One Web Worker of the page: it trains one network. It fetches the kernel modules and
 * MNIST from the page's origin, then hands every message to a TrainingSession (src/lab/live)
 * and posts its events back. Training runs in slices; between slices a MessageChannel round
 * lets the page's commands in (setTimeout would be clamped to 4 ms per round).
 */
import { createKernels } from '../core/backend.js';
import type { SessionCommand, SessionEvent } from '../lab/live/session-messages.js';
import { TrainingSession } from '../lab/live/training-session.js';
import { fetchBuildInfo, fetchKernelModules, fetchMnist } from './fetch-assets.js';

/** The parts of a dedicated worker's global scope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  location: Location;
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent<SessionCommand>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const base = new URL('./', scope.location.href);

const buildInfo = fetchBuildInfo(base);
const modules = fetchKernelModules(base);
const data = buildInfo.then((info) => fetchMnist(base, info.data));

const wakeUps: Array<() => void> = [];
const channel = new MessageChannel();
channel.port1.onmessage = () => wakeUps.shift()?.();

const session = new TrainingSession(data, {
  post: (event: SessionEvent) => scope.postMessage(event),
  loadKernels: async (choice) => createKernels(choice, choice === 'js' ? null : await modules),
  yieldToCommands: () =>
    new Promise<void>((resolve) => {
      wakeUps.push(resolve);
      channel.port2.postMessage(null);
    }),
  version: buildInfo.then((info) => info.bnlab),
});

scope.onmessage = (event) => session.handle(event.data);
