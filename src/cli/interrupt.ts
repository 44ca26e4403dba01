/**
 * @file Ctrl-C during a run: the first stops the training loop cleanly so that what was asked
 * for (record, chart, checkpoint) is still written; a second one quits at once.
 */

export interface Interrupt {
  readonly requested: boolean;
  dispose(): void;
}

export function watchInterrupt(onFirst: () => void): Interrupt {
  let requested = false;
  const handler = (): void => {
    if (requested) process.exit(130);
    requested = true;
    onFirst();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
