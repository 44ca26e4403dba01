/**
 * @file Progress for a training run, like the article's tqdm line: on a terminal one bar that
 * rewrites itself with steps/s and ETA; otherwise plain lines at every validation point; with
 * --json, nothing (stdout carries only the record).
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
  const started = performance.now();
  let lastDraw = 0;
  let currentStep = 0;
  let lastAccuracy: number | null = null;

  const rate = (): number => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? currentStep / seconds : 0;
  };
  const draw = (): void => {
    const fraction = totalSteps > 0 ? currentStep / totalSteps : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const elapsed = (performance.now() - started) / 1000;
    const stepsPerSecond = rate();
    const eta = stepsPerSecond > 0 ? (totalSteps - currentStep) / stepsPerSecond : 0;
    const accuracy = lastAccuracy === null ? '' : `, val ${lastAccuracy.toFixed(4)}`;
    stream.write(
      `\r${label} ${String(Math.floor(fraction * 100)).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}| ` +
        `${currentStep}/${totalSteps} [${clock(elapsed)}<${clock(eta)}, ${stepsPerSecond.toFixed(1)} it/s${accuracy}]\x1b[K`,
    );
  };

  return {
    step(step) {
      currentStep = step;
      if (style !== 'bar') return;
      const time = performance.now();
      if (time - lastDraw >= REDRAW_MS) {
        lastDraw = time;
        draw();
      }
    },
    validation(point) {
      lastAccuracy = point.validationAccuracy;
      if (style === 'lines') {
        stream.write(
          `${label}: step ${point.step}/${totalSteps}, validation accuracy ${point.validationAccuracy.toFixed(4)}, ` +
            `loss ${formatLoss(point.validationLoss)}, ${rate().toFixed(1)} it/s\n`,
        );
      }
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

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return `${String(minutes).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
}

function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toFixed(4) : String(loss);
}
