/**
 * @file Measuring bnlab against one peer with their timed runs alternating (bnlab, peer, bnlab,
 * peer, ...): on cores that other work shares, a load that comes and goes then slows both alike,
 * and the ratio of each adjacent pair is a fairer comparison than two medians taken minutes apart.
 */
import { median, quantile, type RunPlan, type RunResult, type Throughput, type TrainingSession, throughputOfRuns } from './workload.js';

export interface PairedMeasurement {
  bnlab: Throughput;
  peer: Throughput;
  /** Median over the runs of (bnlab steps/s) / (peer steps/s) of the same round, wall time. */
  ratio: number;
  /** The same in steps per CPU-second. */
  cpuRatio: number;
  /** The lower and upper quartiles of the rounds' wall-time ratios: how much the rounds agree. */
  ratioQuartiles: [number, number];
}

export async function measurePaired(bnlab: TrainingSession, bnlabPlan: RunPlan, peer: TrainingSession, peerPlan: RunPlan): Promise<PairedMeasurement> {
  if (bnlabPlan.runs !== peerPlan.runs) throw new RangeError('paired measurements need the same number of runs on both sides');
  await bnlab.run(bnlabPlan.warmupSteps);
  await peer.run(peerPlan.warmupSteps);
  const ours: RunResult[] = [],
    theirs: RunResult[] = [];
  for (let round = 0; round < bnlabPlan.runs; round++) {
    ours.push(await bnlab.run(bnlabPlan.stepsPerRun));
    theirs.push(await peer.run(peerPlan.stepsPerRun));
  }
  const perSecond = (run: RunResult, ms: number): number => (run.steps / ms) * 1000;
  const roundRatios = ours.map((run, i) => perSecond(run, run.wallMs) / perSecond(theirs[i]!, theirs[i]!.wallMs));
  return {
    bnlab: throughputOfRuns(bnlabPlan, ours),
    peer: throughputOfRuns(peerPlan, theirs),
    ratio: median(roundRatios),
    cpuRatio: median(ours.map((run, i) => perSecond(run, run.cpuMs) / perSecond(theirs[i]!, theirs[i]!.cpuMs))),
    ratioQuartiles: [quantile(roundRatios, 0.25), quantile(roundRatios, 0.75)],
  };
}
