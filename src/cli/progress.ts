/**
 * @file Progress for a training run, like the article's tqdm line: on a terminal one bar that
 * rewrites itself with steps/s and ETA; otherwise plain lines at every validation point; with
 * --json, nothing (stdout carries only the record). A group does the same for runs that train
 * at once, one bar per run on a terminal.
 */
import type { CurvePoint } from '../train/trainer.js';

export type ProgressStyle = 'bar' | 'lines' | 'silent';

export interface Progress {
  step(step: number): void;
  validation(point: CurvePoint): void;
  note(message: string): void;
  done(): void;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export function progressStyleFor(stream: NodeJS.WriteStream, json: boolean): ProgressStyle {
  if (json) return 'silent';
  return stream.isTTY ? 'bar' : 'lines';
}

export function createProgress(label: string, totalSteps: number, style: ProgressStyle, stream: NodeJS.WriteStream = process.stderr): Progress {
  const meter = new RunMeter(label, totalSteps);
  let lastDraw = 0;
  const draw = (): void => {
    stream.write(`\r${meter.bar()}\x1b[K`);
  };

  return {
    step(step) {
      meter.currentStep = step;
      if (style !== 'bar') return;
      const time = performance.now();
      if (time - lastDraw >= REDRAW_MS) {
        lastDraw = time;
        draw();
      }
    },
    validation(point) {
      meter.validation(point);
      if (style === 'lines') stream.write(meter.validationLine(point));
    },
    note(message) {
      if (style === 'silent') return;
      if (style === 'bar') stream.write('\r\x1b[K');
      stream.write(`${message}\n`);
    },
    done() {
      if (style === 'bar') {
        draw();
        stream.write('\n');
      }
    },
  };
}

/** One run's bar in a group: `start()` sets its clock going when the run begins (a worker may start it late). */
interface GroupedProgress extends Progress {
  start(): void;
}

export interface ProgressGroup {
  /** One per run, in the order given. */
  readonly runs: GroupedProgress[];
  /** Ends the group: on a terminal, its last bars stay on screen and later output goes below them. */
  close(): void;
}

/**
 * Progress for runs that train at the same time (compare's two networks on two workers). Lines
 * and silent are createProgress's, one run's lines interleaved with the other's; on a terminal,
 * one bar per started run, the bars redrawn in place as one block (ANSI cursor-up) and notes
 * printed above it.
 */
export function createProgressGroup(
  runs: ReadonlyArray<{ label: string; totalSteps: number }>,
  style: ProgressStyle,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressGroup {
  const meters = runs.map(({ label, totalSteps }) => new RunMeter(label, totalSteps));
  const shown = runs.map(() => false);
  let drawnLines = 0;
  let lastDraw = 0;
  let closed = false;

  const clear = (): void => {
    if (drawnLines > 0) stream.write(`\x1b[${drawnLines}A\r\x1b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    const lines = meters.filter((_, i) => shown[i]).map((meter) => `${meter.bar()}\x1b[K\n`);
    stream.write(`${drawnLines > 0 ? `\x1b[${drawnLines}A\r` : ''}${lines.join('')}`);
    drawnLines = lines.length;
    lastDraw = performance.now();
  };
  const maybeDraw = (force: boolean): void => {
    if (style !== 'bar' || closed) return;
    if (force || performance.now() - lastDraw >= REDRAW_MS) draw();
  };

  const bars = meters.map(
    (meter, i): GroupedProgress => ({
      start() {
        meter.restart();
        shown[i] = true;
        maybeDraw(true);
      },
      step(step) {
        meter.currentStep = step;
        shown[i] = true;
        maybeDraw(false);
      },
      validation(point) {
        meter.validation(point);
        if (style === 'lines') stream.write(meter.validationLine(point));
        else maybeDraw(false);
      },
      note(message) {
        if (style === 'silent') return;
        if (style === 'bar' && !closed) {
          clear();
          stream.write(`${message}\n`);
          if (shown.some(Boolean)) draw();
          return;
        }
        stream.write(`${message}\n`);
      },
      done() {
        meter.stop();
        maybeDraw(true);
      },
    }),
  );

  return {
    runs: bars,
    close() {
      if (closed) return;
      maybeDraw(true);
      closed = true;
      drawnLines = 0;
    },
  };
}

/** One run's step count, clock and latest accuracy, and the text of its bar and its validation lines. */
class RunMeter {
  currentStep = 0;
  private started = performance.now();
  private ended: number | null = null;
  private lastAccuracy: number | null = null;

  constructor(
    readonly label: string,
    readonly totalSteps: number,
  ) {}

  restart(): void {
    this.started = performance.now();
    this.ended = null;
  }

  /** Freezes the clock: a finished run's bar keeps its own time and rate while another runs on. */
  stop(): void {
    this.ended ??= performance.now();
  }

  validation(point: CurvePoint): void {
    // A worker's step reports are throttled; the point says exactly where the run is.
    this.currentStep = point.step;
    this.lastAccuracy = point.validationAccuracy;
  }

  private seconds(): number {
    return ((this.ended ?? performance.now()) - this.started) / 1000;
  }

  rate(): number {
    const seconds = this.seconds();
    return seconds > 0 ? this.currentStep / seconds : 0;
  }

  bar(): string {
    const { label, totalSteps, currentStep } = this;
    const fraction = totalSteps > 0 ? currentStep / totalSteps : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const stepsPerSecond = this.rate();
    const eta = stepsPerSecond > 0 ? (totalSteps - currentStep) / stepsPerSecond : 0;
    const accuracy = this.lastAccuracy === null ? '' : `, val ${this.lastAccuracy.toFixed(4)}`;
    return (
      `${label} ${String(Math.floor(fraction * 100)).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}| ` +
      `${currentStep}/${totalSteps} [${clock(this.seconds())}<${clock(eta)}, ${stepsPerSecond.toFixed(1)} it/s${accuracy}]`
    );
  }

  validationLine(point: CurvePoint): string {
    return (
      `${this.label}: step ${point.step}/${this.totalSteps}, validation accuracy ${point.validationAccuracy.toFixed(4)}, ` +
      `loss ${formatLoss(point.validationLoss)}, ${this.rate().toFixed(1)} it/s\n`
    );
  }
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return `${String(minutes).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
}

function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toFixed(4) : String(loss);
}
