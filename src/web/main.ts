/**
 * @file The lab page: reads the settings from the link, starts two training workers (the left
 * and the right network, of the norms the settings name: without BN and with BN unless told
 * otherwise; from the same weights on the same batches, as `bnlab compare --norms`), lays out the
 * controls and views, folds the workers' updates into each network's trace and redraws on a
 * throttle. `window.bnlabLab` exposes the state and the drawing cost to the browser tests and the
 * benchmark.
 */
import { articleFiguresFor } from '../lab/article.js';
import type { ImageSource, InferenceChoice } from '../lab/live/session-messages.js';
import { type CompareRecord, toJson } from '../lab/run-summary.js';
import { type BuildInfo, fetchBuildInfo } from './fetch-assets.js';
import { TrainingClient } from './training-client.js';
import { AccuracyFigure } from './ui/accuracy-figure.js';
import { BatchNormFigure } from './ui/batch-norm-figure.js';
import { checkpointNorm } from './ui/checkpoint-target.js';
import { Controls } from './ui/controls.js';
import { byId, formatAccuracy, saveFile } from './ui/dom.js';
import { FilesPanel } from './ui/files-panel.js';
import { type ConfusionResult, InferencePanel, type InferenceResult } from './ui/inference-panel.js';
import { LayersFigure } from './ui/layers-figure.js';
import { AlertRegion, NoticeList } from './ui/messages.js';
import { DEFAULT_NORMS, type NormPair, networkPhrase } from './ui/network-style.js';
import { applyUpdate, emptyTrace, type NetworkTrace } from './ui/network-trace.js';
import { RedrawScheduler } from './ui/redraw-scheduler.js';
import { SaturationFigure } from './ui/saturation-figure.js';
import { isWasmVariant, StatusView } from './ui/status-view.js';
import { type LabSettings, queryFromSettings, settingsFromQuery } from './url-state.js';

/** The left network (index 0 in every array of this file; without BN by default) and the right one (index 1; with BN by default). */
type PerNetwork<T> = { left: T; right: T };

/** What tests and the benchmark read from the page. */
export interface LabApi {
  /** True once both networks answered their latest configure. */
  readonly ready: boolean;
  readonly settings: LabSettings;
  readonly stats: {
    drawMs: number;
    wallMs: number;
    drawFraction: number;
    draws: number;
    redrawIntervalMs: number;
    stepsPerSecond: PerNetwork<number>;
    step: PerNetwork<number>;
    state: PerNetwork<string>;
  };
  readonly backends: PerNetwork<string | null>;
  readonly results: PerNetwork<{ validationAccuracy: number; testAccuracy: number; divergedAtStep: number | null } | null>;
  readonly inference: InferenceResult | null;
  readonly confusion: ConfusionResult | null;
  readonly alert: string;
  /** compare.json for the finished run, or null while a network still trains. */
  compareRecord(): CompareRecord | null;
}

declare global {
  interface Window {
    bnlabLab: LabApi;
  }
}

const base = new URL('./', location.href);
const buildInfo: Promise<BuildInfo> = fetchBuildInfo(base).catch(() => ({ bnlab: 'unknown', data: 'unknown' }));

const linkSettings = settingsFromQuery(location.search);
let settings = linkSettings.settings;

const alertRegion = new AlertRegion();
const notices = new NoticeList();
notices.set('link', linkSettings.notices);
byId('messages').append(alertRegion.element, notices.element);

// One worker per network, so the two train on two cores.
const clients = settings.norms.map(() => new TrainingClient(new Worker('training-worker.js', { type: 'module' })));
const traces: NetworkTrace[] = settings.norms.map((norm) => emptyTrace(norm));
const backends: Array<string | null> = [null, null];
let ready = false;

let statuses: StatusView[] = [];
/** The norms the views are laid out for. */
let shownNorms: NormPair | null = null;

const accuracy = new AccuracyFigure();
const layers = new LayersFigure((unit) =>
  clients.forEach((client) => {
    client.watchUnit(unit);
  }),
);
const saturation = new SaturationFigure();
const batchNormFigure = new BatchNormFigure();
const inference = new InferencePanel(
  {
    classify: (image: ImageSource, choice: InferenceChoice) => Promise.all(clients.map((client) => client.classify(image, choice))),
    confusion: (choice: InferenceChoice) => Promise.all(clients.map((client) => client.confusion(choice))),
    testImages: 10_000,
    evalBatchSize: () => settings.config.evalBatchSize,
    onError: (error) => alertRegion.show(error),
  },
  settings.config.bnEstimator,
);
const files = new FilesPanel({ download, load: loadFile, exportRun });
byId('views').append(
  accuracy.figure.section,
  layers.figure.section,
  saturation.figure.section,
  batchNormFigure.figure.section,
  inference.figure.section,
  files.figure.section,
);

const controls = new Controls(settings, {
  onSettings: (next) => {
    settings = next;
    writeLink();
    void reset();
  },
  onPlay: () => void play(),
  onPause: () =>
    clients.forEach((client) => {
      client.pause();
    }),
  onAdvance: (steps) =>
    clients.forEach((client) => {
      client.advance(steps);
    }),
  onReset: () => void reset(),
});
byId('controls-area').append(controls.element);

const scheduler = new RedrawScheduler(draw);

clients.forEach((client, i) => {
  client.onUpdate((update) => {
    const trace = traces[i]!;
    const wasFinished = trace.state === 'finished';
    applyUpdate(trace, update);
    scheduler.setTraining(traces.some((t) => t.state === 'running'));
    files.setExportable(traces.every((t) => t.summary !== null));
    // The end of a run (its accuracies, the article's figures) shows at once.
    if (trace.state === 'finished' && !wasFinished) scheduler.requestNow();
    else scheduler.request();
  });
  client.onFailure((failure) => alertRegion.show(failure));
});

window.addEventListener('resize', () => scheduler.request());

window.bnlabLab = {
  get ready() {
    return ready;
  },
  get settings() {
    return settings;
  },
  get stats() {
    const wallMs = scheduler.wallMs();
    return {
      drawMs: scheduler.stats.drawMs,
      wallMs,
      drawFraction: wallMs > 0 ? scheduler.stats.drawMs / wallMs : 0,
      draws: scheduler.stats.draws,
      redrawIntervalMs: scheduler.stats.intervalMs,
      stepsPerSecond: perNetwork((trace) => trace.stepsPerSecond),
      step: perNetwork((trace) => trace.step),
      state: perNetwork((trace) => trace.state),
    };
  },
  get backends() {
    return { left: backends[0]!, right: backends[1]! };
  },
  get results() {
    return perNetwork(
      (trace) =>
        trace.summary && {
          validationAccuracy: trace.summary.validationAccuracy,
          testAccuracy: trace.summary.testAccuracy,
          divergedAtStep: trace.summary.divergedAtStep,
        },
    );
  },
  get inference() {
    return inference.last;
  },
  get confusion() {
    return inference.lastConfusion;
  },
  get alert() {
    return alertRegion.message;
  },
  compareRecord: () => null,
};

function perNetwork<T>(pick: (trace: NetworkTrace) => T): PerNetwork<T> {
  return { left: pick(traces[0]!), right: pick(traces[1]!) };
}

/** Lays out everything that names the networks for `norms` (nothing to do when they did not change). */
function showNorms(norms: NormPair): void {
  if (shownNorms && shownNorms[0] === norms[0] && shownNorms[1] === norms[1]) return;
  shownNorms = norms;
  statuses = norms.map((norm) => new StatusView(norm));
  byId('status').replaceChildren(...statuses.map((status) => status.element));
  backends.forEach((variant, i) => {
    if (variant !== null) statuses[i]!.setBackend(variant);
  });
  accuracy.setNorms(norms);
  saturation.setNorms(norms);
  inference.setNorms(norms);
  files.setNorms(norms);
  const defaultPair = norms[0] === DEFAULT_NORMS[0] && norms[1] === DEFAULT_NORMS[1];
  byId('lede-pair').textContent = defaultPair
    ? 'one without and one with Batch Normalization'
    : `one ${networkPhrase(norms[0])} and one ${networkPhrase(norms[1])}`;
}

function writeLink(): void {
  history.replaceState(null, '', queryFromSettings(settings) + location.hash);
}

/** Both networks rebuilt from the settings at step 0 (the same initial weights, from the seed, whatever their norms). */
async function reset(): Promise<void> {
  const { config, norms } = settings;
  traces.forEach((trace, i) => {
    Object.assign(trace, emptyTrace(norms[i]!), { version: trace.version + 1 });
  });
  showNorms(norms);
  statuses.forEach((status) => {
    status.setLoaded('');
  });
  layers.setLayers(config.hiddenSizes, norms);
  batchNormFigure.setLayers(config.hiddenSizes, norms);
  saturation.setActivation(config.activation);
  inference.setEstimator(config.bnEstimator);
  files.setExportable(false);
  scheduler.setTraining(false);
  scheduler.requestNow();
  const answers = await Promise.allSettled(clients.map((client, i) => client.configure(config, norms[i]!, settings.backend)));
  answers.forEach((answer, i) => {
    if (answer.status === 'rejected') {
      alertRegion.show(answer.reason);
      return;
    }
    backends[i] = answer.value.backend;
    statuses[i]!.setBackend(answer.value.backend);
  });
  notices.set(
    'kernels',
    backends.some((variant) => variant !== null && !isWasmVariant(variant))
      ? [
          settings.backend === 'js'
            ? 'The plain TypeScript kernels run, as the link asks (backend=js): slower than WebAssembly SIMD.'
            : 'This browser lacks WebAssembly SIMD, so the plain TypeScript kernels run: slower, and the steps/s show it.',
        ]
      : [],
  );
  ready = answers.every((answer) => answer.status === 'fulfilled');
  inference.refresh();
}

/** Play; after both runs ended, Play starts the same run again (a finished session ignores play). */
async function play(): Promise<void> {
  if (traces.every((trace) => trace.state === 'finished')) await reset();
  clients.forEach((client) => {
    client.play();
  });
}

async function draw(): Promise<void> {
  const figures = settings.model === null ? null : articleFiguresFor(settings.model, settings.config.steps);
  const label = figures ? `article (model ${figures.configId}, ${figures.steps.toLocaleString('en-US')} steps)` : '';
  traces.forEach((trace, i) => {
    // The article's figures apply to a run of these settings to its end, not to a loaded network, and only without BN or with BN.
    const ofNorm = trace.norm === 'bn' ? figures?.withBn : trace.norm === 'none' ? figures?.withoutBn : null;
    const article = figures && ofNorm && trace.summary && trace.steps === figures.steps ? ofNorm : null;
    statuses[i]!.render(trace, article, label);
  });
  layers.draw(traces);
  saturation.draw(traces);
  batchNormFigure.draw(traces);
  await accuracy.draw(traces);
}

function compareRecordNow(info: BuildInfo): CompareRecord | null {
  const [left, right] = traces.map((trace) => trace.summary);
  if (!left || !right) return null;
  const { batchNorm: _both, norm: _norm, ...config } = settings.config;
  return { bnlab: info.bnlab, command: 'compare', backend: backends[1] ?? backends[0] ?? 'unknown', data: info.data, config, runs: [left, right] };
}

function exportRun(): void {
  void buildInfo.then((info) => {
    const record = compareRecordNow(info);
    if (!record) {
      alertRegion.show(new Error('Both networks must finish their run before it can be exported.'));
      return;
    }
    saveFile(new Blob([toJson(record)], { type: 'application/json' }), 'compare.json');
  });
}

async function download(network: number): Promise<void> {
  try {
    const checkpoint = await clients[network]!.save();
    saveFile(new Blob([checkpoint.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), checkpoint.fileName);
  } catch (error) {
    alertRegion.show(error);
  }
}

/**
 * A checkpoint goes to the network with its norm, read from its header, and is refused in one
 * sentence when neither network has it; a file whose header cannot be read goes to the right
 * network's worker, which refuses it with a sentence that says why.
 */
async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const norm = checkpointNorm(bytes);
  const { norms } = settings;
  const index = norm === null ? 1 : norms.indexOf(norm);
  if (norm !== null && index < 0) {
    alertRegion.show(
      new Error(
        `${file.name} holds a network ${networkPhrase(norm)}, but the page trains the one ${networkPhrase(norms[0])} and the one ` +
          `${networkPhrase(norms[1])}: choose ${norm} for the left or the right network, then load it again.`,
      ),
    );
    return;
  }
  try {
    const loaded = await clients[index]!.load(bytes, file.name);
    alertRegion.clear();
    statuses[index]!.setLoaded(
      `Loaded ${loaded.fileName} (${loaded.network}): validation ${formatAccuracy(loaded.validation.accuracy)}, ` +
        `test ${formatAccuracy(loaded.test.accuracy)}. It trains on from here with the page's settings.`,
    );
    inference.refresh();
  } catch (error) {
    alertRegion.show(error);
  }
}

void buildInfo.then((info) => {
  window.bnlabLab.compareRecord = () => compareRecordNow(info);
});
writeLink();
void reset();
