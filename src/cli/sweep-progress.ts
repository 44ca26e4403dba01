/**
 * @file What `bnlab sweep` and `bnlab reproduce` show while a sweep runs. On a terminal: a block
 * of lines, one per worker (its run, step, steps/s) under a head line (runs done, ETA), redrawn in
 * place with ANSI cursor-up at most five times a second; finished runs are printed above the
 * block. Not on a terminal (a log, CI): one plain line per started and per finished run.
 */
/** What the display needs of a run. */
type RunSpec = { readonly id: string };

export type SweepProgressStyle = 'live' | 'lines';

export interface SweepProgress {
  /** `where` names the worker when it is not one of this process's threads (a `bnlab worker` on host:pid). */
  start(worker: number, spec: RunSpec, where?: string): void;
  progress(worker: number, step: number, stepsPerSecond: number): void;
  finish(worker: number, spec: RunSpec, summary: string): void;
  note(message: string): void;
  done(): void;
}

interface WorkerState {
  spec: RunSpec | null;
  where?: string;
  step: number;
  stepsPerSecond: number;
}

const REDRAW_MS = 200;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const mmss = `${String(minutes).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

export function createSweepProgress(
  options: { totalRuns: number; alreadyFinished: number; stepsPerRun: number; jobs: number; style: SweepProgressStyle },
  stream: NodeJS.WritableStream = process.stderr,
): SweepProgress {
  const { totalRuns, stepsPerRun, jobs, style } = options;
  const workers: WorkerState[] = Array.from({ length: jobs }, () => ({ spec: null, step: 0, stepsPerSecond: 0 }));
  const started = performance.now();
  let finishedRuns = options.alreadyFinished;
  let finishedThisSession = 0;
  let startedThisSession = 0;
  let drawnLines = 0;
  let lastDraw = -Infinity;

  /** Grid ETA from this session's overall rate (steps done / wall time, validation and test included). */
  const eta = (): number => {
    const activeSteps = workers.reduce((sum, worker) => sum + (worker.spec ? worker.step : 0), 0);
    const doneSteps = finishedThisSession * stepsPerRun + activeSteps;
    const seconds = (performance.now() - started) / 1000;
    const remaining = (totalRuns - finishedRuns) * stepsPerRun - activeSteps;
    return doneSteps > 0 && seconds > 1 ? remaining / (doneSteps / seconds) : NaN;
  };

  const clear = (): void => {
    if (drawnLines > 0) stream.write(`\x1b[${drawnLines}A\r\x1b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    clear();
    const elapsed = (performance.now() - started) / 1000;
    const lines = [`${finishedRuns}/${totalRuns} runs finished [${clock(elapsed)} elapsed, ETA ${clock(eta())}]`];
    workers.forEach((worker, index) => {
      const what = worker.spec
        ? `${worker.spec.id.padEnd(12)} step ${String(worker.step).padStart(String(stepsPerRun).length)}/${stepsPerRun}  ${worker.stepsPerSecond.toFixed(0).padStart(5)} steps/s`
        : 'idle';
      lines.push(`  ${worker.where ?? `worker ${index + 1}`}: ${what}`);
    });
    stream.write(lines.map((line) => `${line}\x1b[K\n`).join(''));
    drawnLines = lines.length;
    lastDraw = performance.now();
  };
  const maybeDraw = (): void => {
    if (style === 'live' && performance.now() - lastDraw >= REDRAW_MS) draw();
  };

  return {
    start(worker, spec, where) {
      workers[worker] = { spec, step: 0, stepsPerSecond: 0, ...(where === undefined ? {} : { where }) };
      startedThisSession++;
      if (style === 'lines')
        stream.write(`started ${spec.id} on ${where ?? `worker ${worker + 1}`} (${startedThisSession} started, ${finishedRuns}/${totalRuns} finished)\n`);
      else maybeDraw();
    },
    progress(worker, step, stepsPerSecond) {
      const state = workers[worker];
      if (!state) return;
      state.step = step;
      if (stepsPerSecond > 0) state.stepsPerSecond = stepsPerSecond;
      maybeDraw();
    },
    finish(worker, spec, summary) {
      finishedRuns++;
      finishedThisSession++;
      workers[worker] = { spec: null, step: 0, stepsPerSecond: 0 };
      const remaining = eta();
      const line = `finished ${spec.id}: ${summary} [${finishedRuns}/${totalRuns}${Number.isFinite(remaining) ? `, ETA ${clock(remaining)}` : ''}]`;
      if (style === 'live') {
        clear();
        stream.write(`${line}\n`);
        draw();
      } else {
        stream.write(`${line}\n`);
      }
    },
    note(message) {
      if (style === 'live') clear();
      stream.write(`${message}\n`);
      if (style === 'live' && finishedThisSession + startedThisSession > 0) draw();
    },
    done() {
      if (style === 'live') clear();
    },
  };
}
