/**
 * @file What a claim of the article is, as code: a named experiment that measures something and
 * returns numbers, tables, figures (Vega-Lite specs) and a verdict decided by the measurement.
 * Pure: a claim gets its kernels, data and budget injected and touches no files.
 */
import type { Kernels } from '../../core/kernels.js';
import type { MnistData } from '../../data/mnist.js';
import type { VegaLiteSpec } from '../charts/types.js';
import type { ShardedBatchNorm } from './sync-bn-math.js';

export interface ClaimContext {
  kernels: Kernels;
  data: MnistData;
  /** The quick budget (seconds on the wasm backend) instead of the full one. */
  quick: boolean;
  seed: number;
  onProgress?(message: string): void;
  /** Worker threads for the shards of `sync-bn`, when the edge has them (Node: src/node/sharded-batch-norm.ts); absent, the shards run in one thread. */
  shardedBatchNorm?: ShardedBatchNorm;
}

export interface ClaimTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

interface ClaimFigure {
  /** File name without extension, unique within the claim (the CLI prefixes the claim's name). */
  name: string;
  /** One sentence saying what the figure shows (the report's caption). */
  caption: string;
  spec: VegaLiteSpec;
}

interface ClaimVerdict {
  holds: boolean;
  text: string;
}

export interface ClaimResult {
  name: string;
  title: string;
  articleSays: string;
  /** How it was measured: network, steps, data, the budget and what it left out. */
  method: string;
  /** The key measured numbers, flat, for --json and for tests. */
  numbers: Record<string, number | string>;
  tables: ClaimTable[];
  verdict: ClaimVerdict;
  figures: ClaimFigure[];
  /** What the CLI prints for this claim, before the verdict line. */
  lines: string[];
  elapsedMs: number;
}

export interface Claim {
  name: string;
  title: string;
  /** One line for `bnlab explain --list`. */
  description: string;
  articleSays: string;
  run(context: ClaimContext): Promise<ClaimResult>;
}
