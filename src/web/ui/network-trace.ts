/**
 * @file What the page has heard of one network's current run: the session sends increments
 * (curve points, probe samples and losses since its previous update), and this gathers them into
 * the whole history the views draw. A new runId (a reset or a loaded file) starts it afresh.
 */
import type { SessionState, SessionUpdate } from '../../lab/live/session-messages.js';
import type { NormKind } from '../../nn/spec.js';

/**
 * The fields of an update, held whole: where an update carries increments (curve, probes,
 * losses), the trace holds the run's history so far; `layers` is kept until a newer probe.
 */
export interface NetworkTrace extends Omit<SessionUpdate, 'state'> {
  /** The network's norm (it changes only with the page's settings, which reset the trace). */
  norm: NormKind;
  state: SessionState | 'starting';
  /** Bumped on every change, so a view can skip a redraw when nothing it shows moved. */
  version: number;
}

export function emptyTrace(norm: NormKind): NetworkTrace {
  return {
    norm,
    runId: 0,
    state: 'starting',
    step: 0,
    steps: 0,
    stepsPerSecond: 0,
    curve: [],
    probes: [],
    losses: [],
    layers: null,
    watchedUnit: 0,
    divergedAtStep: null,
    summary: null,
    version: 0,
  };
}

/** Folds one update into the trace (stale runs were dropped by the client already). */
export function applyUpdate(trace: NetworkTrace, update: SessionUpdate): void {
  if (update.runId !== trace.runId) {
    trace.runId = update.runId;
    trace.curve = [];
    trace.probes = [];
    trace.losses = [];
    trace.layers = null;
  }
  trace.state = update.state;
  trace.step = update.step;
  trace.steps = update.steps;
  trace.stepsPerSecond = update.stepsPerSecond;
  trace.curve.push(...update.curve);
  // A watched unit that changed restarts the percentile history: older samples followed another unit.
  if (update.watchedUnit !== trace.watchedUnit) trace.probes = [];
  trace.watchedUnit = update.watchedUnit;
  trace.probes.push(...update.probes);
  trace.losses.push(...update.losses);
  if (update.layers) trace.layers = update.layers;
  trace.divergedAtStep = update.divergedAtStep;
  trace.summary = update.summary;
  trace.version++;
}
