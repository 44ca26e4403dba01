/**
 * @file The training benchmark's record: what machine, which systems, what they measured, and
 * each target of the speed issue checked against the measurement. `--json` prints it as it is;
 * report.ts turns it into the readable table.
 */
import type { EvaluationTiming } from './bnlab-runs.js';
import type { NormRow } from './norm-rows.js';
import type { PeakMemoryReport } from './peak-memory-child.js';
import type { StepSplit } from './split.js';
import type { Throughput, Variant } from './workload.js';

export interface MachineInfo {
  cpu: string;
  logicalCores: number;
  /** The logical CPU every system ran on (pinned: the same core for bnlab and each peer), or why nothing was pinned. */
  pinning: { cpu: number } | { reason: string };
  node: string;
  platform: string;
  /** 1-minute load average when the bench started and ended: other work on the machine skews every number. */
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
}

/** One row of the throughput table: a system on a backend, both networks. */
export interface SystemRow {
  system: string;
  backend: string;
  version: string;
  /** null where the system was not measured on that network (or was skipped). */
  throughput: Record<Variant, Throughput | null>;
  /**
   * bnlab's steps/s over this row's, per network: for a peer, the median over rounds in which
   * bnlab and the peer ran alternately (see interleave.ts); for bnlab's own rows, of the medians.
   */
  bnlabRatio: Record<Variant, number | null>;
  /** The same ratio in steps per CPU-second, steadier where other work shares the cores. */
  bnlabCpuRatio: Record<Variant, number | null>;
  /** bnlab's own throughput in the rounds alternating with this peer (null for bnlab's rows). */
  bnlabInPairs: Record<Variant, Throughput | null> | null;
  /** The quartiles of the per-round ratios behind bnlabRatio (null for bnlab's rows). */
  bnlabRatioQuartiles: Record<Variant, [number, number] | null> | null;
  note: string | null;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean | null; // null: not measured
}

export interface BenchRecord {
  benchmark: 'bnlab training';
  date: string;
  quick: boolean;
  machine: MachineInfo;
  bnlab: { version: string; backendVariant: string };
  workload: string;
  rows: SystemRow[];
  skippedPeers: Array<{ system: string; reason: string }>;
  evaluation: { bnlab: EvaluationTiming; pytorch: EvaluationTiming | null };
  split: StepSplit;
  peakMemory: PeakMemoryReport;
  /** Model 1's network with each norm, in alternating rounds (norm-rows.ts). */
  norms: NormRow[];
  targets: TargetCheck[];
}
