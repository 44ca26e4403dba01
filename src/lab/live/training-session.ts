/**
 * @file A live training session: one network, of any norm, trained by the trainer's own loop (`TrainingRun`,
 * so the numbers are `bnlab compare`'s to the bit), played, paused and stepped on command, its
 * layers probed at fixed steps, and asked to classify, to tally a confusion matrix, to save and
 * to load checkpoints. Transport-free: a Web Worker (src/web/training-worker.ts) or a test
 * feeds it commands and forwards its events.
 */
import type { BackendChoice } from '../../core/backend.js';
import type { Kernels } from '../../core/kernels.js';
import { MNIST_CLASSES, type MnistData, type Split, splitExamples } from '../../data/mnist.js';
import type { MLP } from '../../nn/mlp.js';
import { BATCH_NORM_DEFAULTS, type Estimator, type InferenceStatistics, type NormKind } from '../../nn/spec.js';
import { decodeCheckpoint, describeNetwork, encodeCheckpoint } from '../../train/checkpoint.js';
import { largestBatch, normKindOf, type TrainConfig } from '../../train/config.js';
import { buildNetwork } from '../../train/networks.js';
import { TrainingRun } from '../../train/trainer.js';
import { headOf, predictClasses } from '../claims/experiment-kit.js';
import { networkName, type RunSummary, summarizeRun } from '../run-summary.js';
import { classProbabilities } from './class-probabilities.js';
import { probeLayers } from './layer-probe.js';
import {
  type ImageSource,
  type InferenceChoice,
  type LayerView,
  networkSlug,
  type ProbeSample,
  type SessionCommand,
  type SessionEvent,
  type SessionState,
  type SessionUpdate,
} from './session-messages.js';

/** Validation images whose hidden layers are probed: enough for stable percentiles, cheap enough to probe often. */
const PROBE_IMAGES = 256;
/** About this many probes over a run, whatever its length: the views' resolution, at ~2% of training time. */
const PROBES_PER_RUN = 100;
/** Test images that keep a classified image company when it is not alone in its batch. */
const CLASSIFY_COMPANY = 99;
/** Training runs in slices this long between looks at the command queue. */
const SLICE_MS = 25;
const UPDATE_EVERY_MS = 200;

/** What the session needs from where it runs. */
export interface SessionHost {
  post(event: SessionEvent): void;
  /** A fresh kernel backend (wasm memory is never freed, so every run gets its own). */
  loadKernels(choice: BackendChoice): Promise<Kernels>;
  /** Resolves after pending commands had a chance to arrive (a MessageChannel round in a page). */
  yieldToCommands(): Promise<void>;
  /** bnlab's version, written into saved checkpoints. */
  version: Promise<string>;
}

/** The steps at which a run of `steps` steps is probed: every `probeInterval` steps and at the end. */
export function probeInterval(steps: number): number {
  return Math.max(1, Math.ceil(steps / PROBES_PER_RUN));
}

interface Run {
  id: number;
  kernels: Kernels;
  net: MLP;
  /** The pair's shared config (its own `norm` is not this network's). */
  config: TrainConfig;
  norm: NormKind;
  training: TrainingRun;
  summary: RunSummary | null;
  /** What has not been sent yet. */
  sentCurvePoints: number;
  probes: ProbeSample[];
  losses: Array<[number, number]>;
  layers: LayerView[] | null;
  lossSum: number;
  lossCount: number;
  /** Wall time and steps while playing or stepping, for steps/s. */
  activeMs: number;
  activeSteps: number;
}

export class TrainingSession {
  private run: Run | null = null;
  private nextRunId = 1;
  private watchedUnit = 0;
  /** Steps still to run before pausing (Infinity while playing, 0 when paused). */
  private budget = 0;
  private looping = false;
  /** Commands are handled one after another, in order (configure and load are asynchronous). */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly data: Promise<MnistData>,
    private readonly host: SessionHost,
  ) {}

  /** Takes one command; never throws (a failure becomes a 'failed' event and changes nothing). */
  handle(command: SessionCommand): void {
    // Pause takes effect at once, between two slices, not after queued work.
    if (command.type === 'pause') {
      this.budget = 0;
      return;
    }
    this.queue = this.queue
      .then(() => this.execute(command))
      .catch((error: unknown) => {
        const requestId = 'requestId' in command ? command.requestId : null;
        this.host.post({ type: 'failed', requestId, command: command.type, message: error instanceof Error ? error.message : String(error) });
      });
  }

  private async execute(command: SessionCommand): Promise<void> {
    switch (command.type) {
      case 'configure':
        return this.configure(command.config, normKindOf(command.norm), command.backend);
      case 'play':
        return this.start(Infinity);
      case 'pause':
        this.budget = 0;
        return;
      case 'advance':
        return this.start(Math.max(0, Math.floor(command.steps)));
      case 'watchUnit':
        this.watchedUnit = Math.max(0, Math.floor(command.unit));
        if (this.run && !this.looping) this.probe(this.run);
        this.postUpdate();
        return;
      case 'classify':
        return this.classify(command.requestId, command.image, command.inference);
      case 'confusion':
        return this.confusion(command.requestId, command.inference);
      case 'save':
        return this.save(command.requestId);
      case 'load':
        return this.load(command.requestId, command.bytes, command.fileName);
      default:
        command satisfies never;
    }
  }

  /** As `bnlab compare` builds each of its networks: the shared config, this network's norm, the initial weights of the config's seed. */
  private async configure(config: TrainConfig, norm: NormKind, backend: BackendChoice): Promise<void> {
    this.budget = 0;
    const [data, kernels] = await Promise.all([this.data, this.host.loadKernels(backend)]);
    const net = buildNetwork(kernels, config, norm);
    this.replaceRun(kernels, net, config, norm, data);
    this.host.post({ type: 'configured', runId: this.run!.id, backend: kernels.variant, network: networkName(norm), norm });
    this.postUpdate();
  }

  private replaceRun(kernels: Kernels, net: MLP, config: TrainConfig, norm: NormKind, data: MnistData): void {
    const run: Run = {
      id: this.nextRunId++,
      kernels,
      net,
      config,
      norm,
      training: null as unknown as TrainingRun,
      summary: null,
      sentCurvePoints: 0,
      probes: [],
      losses: [],
      layers: null,
      lossSum: 0,
      lossCount: 0,
      activeMs: 0,
      activeSteps: 0,
    };
    run.training = new TrainingRun(net, data, config, {
      onStep: (_step, loss) => {
        run.lossSum += loss;
        run.lossCount++;
      },
    });
    this.run = run;
    this.probe(run);
  }

  private start(steps: number): void {
    const run = this.requireRun();
    if (run.summary) return; // finished: a reset (configure) starts again
    this.budget = steps;
    if (!this.looping) void this.loop(run);
  }

  /** Trains in slices until the budget is spent, the run ends or a newer run replaces it. */
  private async loop(run: Run): Promise<void> {
    this.looping = true;
    let lastUpdate = performance.now();
    try {
      while (this.run === run && this.budget > 0 && !run.training.ended) {
        const sliceStart = performance.now();
        const interval = probeInterval(run.config.steps);
        const toProbe = interval - (run.training.step % interval);
        const ran = run.training.advance(Math.min(this.budget, toProbe), sliceStart + SLICE_MS);
        this.budget -= ran;
        if (run.training.step % interval === 0 || run.training.ended) this.probe(run);
        if (run.training.ended) this.finish(run);
        run.activeMs += performance.now() - sliceStart;
        run.activeSteps += ran;
        if (performance.now() - lastUpdate >= UPDATE_EVERY_MS) {
          this.postUpdate();
          lastUpdate = performance.now();
        }
        await this.host.yieldToCommands();
      }
    } finally {
      this.looping = false;
      this.budget = 0;
    }
    if (this.run === run) {
      if (run.training.step % probeInterval(run.config.steps) !== 0 && run.probes.at(-1)?.step !== run.training.step) this.probe(run);
      this.postUpdate();
    }
  }

  private probe(run: Run): void {
    const step = run.training.step;
    const probe = headOf(run.training.data.validation, PROBE_IMAGES);
    const { sample, layers } = probeLayers(run.net, probe, step, this.watchedUnit);
    run.probes.push(sample);
    run.layers = layers;
    if (run.lossCount > 0) run.losses.push([step, run.lossSum / run.lossCount]);
    run.lossSum = 0;
    run.lossCount = 0;
  }

  private finish(run: Run): void {
    const result = run.training.finish();
    run.summary = summarizeRun(networkName(run.norm), run.norm, run.config, result);
  }

  private postUpdate(): void {
    const run = this.run;
    if (!run) return;
    const { training } = run;
    const state: SessionState = run.summary ? 'finished' : this.looping && this.budget > 0 ? 'running' : 'paused';
    const update: SessionUpdate = {
      runId: run.id,
      state,
      step: training.step,
      steps: run.config.steps,
      stepsPerSecond: run.activeMs > 0 ? (run.activeSteps * 1000) / run.activeMs : 0,
      curve: training.curve.slice(run.sentCurvePoints),
      probes: run.probes,
      losses: run.losses,
      layers: run.layers,
      watchedUnit: this.watchedUnit,
      divergedAtStep: training.divergedAtStep,
      summary: run.summary,
    };
    run.sentCurvePoints = training.curve.length;
    run.probes = [];
    run.losses = [];
    run.layers = null;
    this.host.post({ type: 'update', update });
  }

  /** One image's ten class probabilities: alone in its batch, or among the first test images. */
  private async classify(requestId: number, image: ImageSource, inference: InferenceChoice): Promise<void> {
    const run = this.requireRun();
    const data = run.training.data;
    const pixels = imagePixels(image, data.test);
    const company = inference.oneAtATime ? 0 : Math.min(CLASSIFY_COMPANY, data.test.count);
    const width = data.test.width;
    const batch: Split = { pixels: new Uint8Array((1 + company) * width), labels: new Uint8Array(1 + company), count: 1 + company, width };
    batch.pixels.set(pixels);
    batch.pixels.set(data.test.pixels.subarray(0, company * width), width);
    const probabilities = classProbabilities(run.net, batch, 0, this.inferenceFor(run, inference.estimator));
    const label = image.kind === 'test' ? data.test.labels[image.index]! : null;
    this.host.post({ type: 'classified', requestId, probabilities, pixels, label });
  }

  /** The test set's confusion matrix (rows: true digit, columns: predicted) under `inference`. */
  private async confusion(requestId: number, inference: InferenceChoice): Promise<void> {
    const run = this.requireRun();
    const test = run.training.data.test;
    const batchSize = inference.oneAtATime ? 1 : run.config.evalBatchSize;
    const predictions = predictClasses(run.net, test, batchSize, this.inferenceFor(run, inference.estimator));
    const matrix = Array.from({ length: MNIST_CLASSES }, () => new Array<number>(MNIST_CLASSES).fill(0));
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      matrix[test.labels[i]!]![predictions[i]!]!++;
      if (test.labels[i] === predictions[i]) correct++;
    }
    this.host.post({ type: 'confusion', requestId, matrix, accuracy: test.count ? correct / test.count : NaN, inference });
  }

  /** The statistics to infer with by `estimator` (the network's own are left as they are); Algorithm 2's averages recomputed first, as validation does. */
  private inferenceFor(run: Run, estimator: Estimator): InferenceStatistics {
    if (estimator === 'average') run.training.refreshAverages();
    return { estimator, unbiased: run.net.inferenceStatistics?.unbiased ?? BATCH_NORM_DEFAULTS.unbiased };
  }

  private async save(requestId: number): Promise<void> {
    const run = this.requireRun();
    const version = await this.host.version;
    const bytes = encodeCheckpoint(run.net, { steps: String(run.training.step), seed: String(run.config.seed), source: 'bnlab page' }, version);
    this.host.post({ type: 'checkpoint', requestId, bytes, fileName: `bnlab-${networkSlug(run.norm)}.safetensors` });
  }

  /**
   * Restores a checkpoint as this session's network at step 0, to train on with the page's
   * settings. Refused, with nothing changed, when it does not fit: not a checkpoint, another
   * layer layout or activation than the settings, another norm than this session's, or Ghost BN
   * virtual batches that do not divide the batch size.
   */
  private async load(requestId: number, bytes: Uint8Array, fileName: string): Promise<void> {
    const current = this.requireRun();
    const { config, norm } = current;
    const expected = { inputSize: current.net.spec.inputSize, hiddenSizes: config.hiddenSizes, outputSize: current.net.spec.outputSize };
    const { net } = decodeCheckpoint(bytes, current.kernels, fileName, expected, { maxBatchSize: largestBatch(config) });
    const found = `${describeNetwork(net.spec)} ${net.spec.activation}`;
    if (net.spec.activation !== config.activation) {
      throw new Error(
        `${fileName} holds a ${found} network, but the page trains ${config.activation}: set the activation to ${net.spec.activation}, then load it again.`,
      );
    }
    if (net.spec.norm !== norm) {
      const holds = normPhrase(net.spec.norm);
      throw new Error(`${fileName} holds a network ${holds}, and this one is ${normPhrase(norm)}: load it into the network ${holds}.`);
    }
    const virtualBatch = net.spec.ghost?.virtualBatch;
    if (virtualBatch !== undefined && config.batchSize % virtualBatch !== 0) {
      throw new Error(
        `${fileName} holds Ghost BN with virtual batches of ${virtualBatch}, which do not divide the batch size ${config.batchSize}: set the batch size to a multiple of ${virtualBatch}, then load it again.`,
      );
    }
    this.budget = 0;
    this.replaceRun(current.kernels, net, config, norm, await this.data);
    const run = this.run!;
    const test = net.evaluate(splitExamples(run.training.data.test), config.evalBatchSize);
    const validation = run.training.latestValidation!;
    this.host.post({ type: 'loaded', requestId, runId: run.id, fileName, network: norm === 'none' ? found : `${found} ${normPhrase(norm)}`, validation, test });
    this.postUpdate();
  }

  private requireRun(): Run {
    if (!this.run) throw new Error('no network yet: configure the session first');
    return this.run;
  }
}

/** "with Layer Norm", "without Batch Norm": the network's name inside a sentence. */
function normPhrase(norm: NormKind): string {
  const name = networkName(norm);
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function imagePixels(image: ImageSource, test: Split): Uint8Array {
  if (image.kind === 'test') {
    if (!Number.isInteger(image.index) || image.index < 0 || image.index >= test.count) {
      throw new RangeError(`test image ${image.index} does not exist: the test set has images 0..${test.count - 1}`);
    }
    return test.pixels.slice(image.index * test.width, (image.index + 1) * test.width);
  }
  if (image.pixels.length !== test.width) throw new RangeError(`an image has ${test.width} pixels, got ${image.pixels.length}`);
  return image.pixels.slice();
}
