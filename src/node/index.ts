/**
 * @file bnlab's Node-only helpers (`bnlab/node`): load the kernel backend and MNIST from disk,
 * save and load checkpoints, write charts, write files atomically.
 */
export { loadKernels, enableRelaxedSimd, readKernelModules } from './wasm-files.js';
export { loadMnist } from './mnist-files.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint-files.js';
export { writeChart, renderSvg, svgToPng } from './render-chart.js';
export { writeFileAtomic } from './atomic-write.js';
export { bnlabVersion } from './package-info.js';
