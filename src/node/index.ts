/**
 * @file bnlab's Node-only helpers (`bnlab/node`): load the kernel backend and MNIST from disk,
 * save and load checkpoints, write charts, write files atomically.
 */

export { writeFileAtomic } from './atomic-write.js';
export { loadCheckpoint, saveCheckpoint } from './checkpoint-files.js';
export { loadMnist } from './mnist-files.js';
export { nativeAbsence, nativeKernels } from './native-files.js';
export { bnlabVersion } from './package-info.js';
export { renderSvg, svgToPng, writeChart } from './render-chart.js';
export { enableRelaxedSimd, loadKernels, readKernelModules } from './wasm-files.js';
