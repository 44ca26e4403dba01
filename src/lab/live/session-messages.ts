/**
 * @file What a page (or any host) and a live training session say to each other: the commands a
 * session takes and the events it sends back. Plain structured-cloneable data, so the same
 * messages cross a Web Worker boundary (src/web/) or a Node worker thread, and a test can drive a
 * session directly. One session trains one network, of any norm; the page runs two, one per worker.
 */
import type { BackendChoice } from '../../core/backend.js';
import type { Evaluation } from '../../nn/mlp.js';
import type { Estimator, NormKind } from '../../nn/spec.js';
import type { TrainConfig } from '../../train/config.js';
import type { CurvePoint } from '../../train/trainer.js';
import type { RunSummary } from '../run-summary.js';

/** Where an image to classify comes from: a test image by index, or 784 pixel bytes (a drawn digit, 0 = background). */
export type ImageSource = { kind: 'test'; index: number } | { kind: 'pixels'; pixels: Uint8Array };

/**
 * How a network is asked to infer: which BN statistics, and whether each example is alone in its
 * batch. `oneAtATime` with the `batch` estimator is the failure the article warns about: one
 * example has no variance, so every input normalizes to β.
 */
export interface InferenceChoice {
  estimator: Estimator;
  oneAtATime: boolean;
}

export type SessionCommand =
  /**
   * (Re)builds the network with `norm` (true/false: BN or none) from the config's seed at step 0
   * (a reset), on a fresh backend. The config is the pair's shared one (as `bnlab compare`'s):
   * the initial weights come from it whatever the norm, so two sessions start alike.
   */
  | { type: 'configure'; config: TrainConfig; norm: NormKind | boolean; backend: BackendChoice }
  | { type: 'play' }
  | { type: 'pause' }
  /** Runs this many steps (or to the end), then pauses. */
  | { type: 'advance'; steps: number }
  /** Which unit of each hidden layer the percentile view follows (clamped to the layer's width). */
  | { type: 'watchUnit'; unit: number }
  | { type: 'classify'; requestId: number; image: ImageSource; inference: InferenceChoice }
  | { type: 'confusion'; requestId: number; inference: InferenceChoice }
  | { type: 'save'; requestId: number }
  /** A checkpoint's bytes: replaces the network at step 0 if it fits the settings; otherwise a 'failed' event and nothing changes. */
  | { type: 'load'; requestId: number; bytes: Uint8Array; fileName: string };

export type SessionState = 'paused' | 'running' | 'finished';

/** Percentiles of the watched unit's input and the saturation of each hidden layer, at one step. */
export interface ProbeSample {
  step: number;
  /** Per hidden layer: the 15th, 50th and 85th percentiles of the watched unit's input (the activation's input) over the probe images. */
  percentiles: Array<[number, number, number]>;
  /** Per hidden layer: sigmoid/tanh: fraction of (image, unit) pairs with f'(z) < 0.01; relu: fraction of units dead on every probe image. */
  saturation: number[];
}

export interface Histogram {
  /** Left edge of the first bin and the width of each bin. */
  start: number;
  binWidth: number;
  counts: number[];
}

/**
 * One layer of BN or a successor (Batch Renorm, Ghost BN) now: its learned scale and shift, its
 * population estimates and the statistics they are set against, per unit.
 */
export interface BatchNormView {
  gamma: number[];
  beta: number[];
  movingMean: number[];
  movingVariance: number[];
  batchMean: number[];
  batchVariance: number[];
  /**
   * Whose statistics batchMean and batchVariance are: the latest training batch's (bn, brn), or
   * the probe images' (ghost, whose training batches are normalized in virtual batches).
   */
  batchSource: 'training batch' | 'probe';
}

/** The inside of each hidden layer at the latest probe. */
export interface LayerView {
  /** The activation's input (after BN where there is BN) over the probe images and every unit. */
  histogram: Histogram;
  /** null in a network without BN or a successor of it (none, ln, gn, rms, wn). */
  batchNorm: BatchNormView | null;
}

export interface SessionUpdate {
  /** Increases with every configure or load: an update of an older run is stale. */
  runId: number;
  state: SessionState;
  step: number;
  steps: number;
  /** Training steps per second of wall time while running (probes and validation included). */
  stepsPerSecond: number;
  /** Curve points since the previous update of this run. */
  curve: CurvePoint[];
  /** Probe samples since the previous update of this run. */
  probes: ProbeSample[];
  /** Training loss per probe interval since the previous update: [step, mean loss over the interval]. */
  losses: Array<[number, number]>;
  /** The layers at the latest probe (null when no probe ran since the previous update). */
  layers: LayerView[] | null;
  watchedUnit: number;
  divergedAtStep: number | null;
  /** Once finished: the run as compare.json records it (validation and test accuracy, curve, speed). */
  summary: RunSummary | null;
}

export type SessionEvent =
  /** After boot: the backend this session runs on ('relaxed-simd', 'simd128' or 'js'). */
  | { type: 'configured'; runId: number; backend: string; network: string; norm: NormKind }
  | { type: 'update'; update: SessionUpdate }
  | { type: 'classified'; requestId: number; probabilities: number[]; pixels: Uint8Array; label: number | null }
  | { type: 'confusion'; requestId: number; matrix: number[][]; accuracy: number; inference: InferenceChoice }
  | { type: 'checkpoint'; requestId: number; bytes: Uint8Array; fileName: string }
  | { type: 'loaded'; requestId: number; runId: number; fileName: string; network: string; validation: Evaluation; test: Evaluation }
  /** A command that could not be done; requestId is null for commands without one. Nothing changed. */
  | { type: 'failed'; requestId: number | null; command: SessionCommand['type']; message: string };

/** A network's norm in ids and file names: "without-bn", "with-bn", "with-ln", "with-ghost"… */
export function networkSlug(norm: NormKind): string {
  return norm === 'none' ? 'without-bn' : `with-${norm}`;
}
