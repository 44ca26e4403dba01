/**
 * @file What every training command does first: the kernel backend, the data, the initial
 * weights (drawn from the seed, or taken from a checkpoint with --init-from).
 */
import type { BackendChoice } from '../core/backend.js';
import type { Kernels } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import type { MnistData } from '../data/mnist.js';
import { WeightNormDense } from '../nn/weight-norm.js';
import { loadCheckpoint } from '../node/checkpoint-files.js';
import { loadMnist } from '../node/mnist-files.js';
import { loadKernels } from '../node/wasm-files.js';
import type { TrainConfig } from '../train/config.js';
import { initialWeightsFor } from '../train/networks.js';
import { UsageError } from './errors.js';

export interface Setup {
  kernels: Kernels;
  data: MnistData;
  initialWeights: Matrix[];
}

export async function setUp(config: TrainConfig, options: { backend: BackendChoice; dataDir?: string; initFrom?: string }): Promise<Setup> {
  const kernels = await loadKernels(options.backend);
  const data = await loadMnist(options.dataDir ? { dataDir: options.dataDir } : {});
  const initialWeights = options.initFrom ? await weightsFromCheckpoint(options.initFrom, config, kernels) : initialWeightsFor(config);
  return { kernels, data, initialWeights };
}

async function weightsFromCheckpoint(path: string, config: TrainConfig, kernels: Kernels): Promise<Matrix[]> {
  const { net } = await loadCheckpoint(path, kernels);
  const wanted = [784, ...config.hiddenSizes, 10].join('-');
  const found = [net.spec.inputSize, ...net.spec.hiddenSizes, net.spec.outputSize].join('-');
  if (wanted !== found)
    throw new UsageError(`--init-from ${path} holds a ${found} network, but the flags ask for ${wanted}; pass --hidden ${net.spec.hiddenSizes.join(',')}`);
  // A Weight Norm layer's weights are w = g·v/‖v‖ (its `weights` hold v, the direction alone).
  return net.dense.map((layer) =>
    layer instanceof WeightNormDense ? new Matrix(layer.inputs, layer.outputs, Float32Array.from(layer.effectiveWeights())) : layer.weights,
  );
}
