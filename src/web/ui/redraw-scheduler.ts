/**
 * @file When the page redraws: at most every 500 ms, and less often when drawing takes more than
 * 5% of the time between draws, so the main thread never takes much from the two training
 * workers (the budget is 10%). Only draws during training set the pace (building the
 * charts once at a reset is not what a redraw costs), smoothed over the last few and capped at
 * 5 s. It measures what drawing costs: drawMs over wallMs while training runs, the figure the
 * browser benchmark reads.
 */

export interface DrawStats {
  /** Time spent drawing while some network was training. */
  drawMs: number;
  /** Wall time during which some network was training. */
  wallMs: number;
  draws: number;
  /** The interval the scheduler waits now (grows when drawing is slow). */
  intervalMs: number;
}

export class RedrawScheduler {
  readonly stats: DrawStats;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastDrawStart = -Infinity;
  private drawing = false;
  private runningSince: number | null = null;
  /** Moving average of the draw time while training. */
  private typicalDrawMs = 0;

  constructor(
    private readonly draw: () => Promise<void> | void,
    private readonly minIntervalMs = 500,
    private readonly budget = 0.05,
    private readonly maxIntervalMs = 5000,
  ) {
    this.stats = { drawMs: 0, wallMs: 0, draws: 0, intervalMs: minIntervalMs };
  }

  /** Something changed: draw once the interval allows. */
  request(): void {
    this.dirty = true;
    this.schedule();
  }

  /** Draw at the next chance regardless of the interval (a user's click should show at once). */
  requestNow(): void {
    this.dirty = true;
    this.lastDrawStart = -Infinity;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.schedule();
  }

  /** Whether some network trains: wall time counts only then. */
  setTraining(training: boolean): void {
    const now = performance.now();
    if (training && this.runningSince === null) this.runningSince = now;
    if (!training && this.runningSince !== null) {
      this.stats.wallMs += now - this.runningSince;
      this.runningSince = null;
    }
  }

  /** Wall time so far, the running interval included. */
  wallMs(): number {
    return this.stats.wallMs + (this.runningSince === null ? 0 : performance.now() - this.runningSince);
  }

  private schedule(): void {
    if (this.timer !== null || this.drawing) return;
    const wait = Math.max(0, this.lastDrawStart + this.stats.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, wait);
  }

  private async run(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.drawing = true;
    const start = performance.now();
    this.lastDrawStart = start;
    try {
      await this.draw();
    } finally {
      const took = performance.now() - start;
      this.stats.draws++;
      if (this.runningSince !== null) {
        this.stats.drawMs += took;
        this.typicalDrawMs = this.typicalDrawMs === 0 ? took : 0.7 * this.typicalDrawMs + 0.3 * took;
        // Spend at most `budget` of wall time drawing: 40 ms draws wait 800 ms for the next.
        this.stats.intervalMs = Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, this.typicalDrawMs / this.budget));
      }
      this.drawing = false;
      if (this.dirty) this.schedule();
    }
  }
}
