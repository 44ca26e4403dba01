/**
 * @file The kernel module's exports: every kernel of bnlab's `Kernels` interface on raw byte
 * addresses into linear memory (imported as env.memory, so the host sizes and grows it), plus
 * where the host may start placing buffers. The host (src/core/wasm/) owns all allocation; this
 * module never allocates.
 */
export { gemm } from './dense-matmul';
export { matmulTransposeB, matmulTransposeBMasked } from './dot-matmul';
export { transpose } from './transpose';
export { allFinite, countNonzeros } from './skip-checks';
export { hasSubnormal, rescalable, scaleByPowerOfTwo } from './subnormals';
export { gemmAddRescaled } from './rescaled-gemm';
export {
  columnSums, sparseColumnSums, columnMaxima, keptUpdates, gatherColumns, gatherBlock, scatterBlock, scatterColumns,
} from './negligible-updates';
export { maddOnce } from './simd';
export { matmulTransposeBRescaled } from './rescaled-dot-matmul';
export {
  matmulSparse, matmulSparseInRegisters, matmulSparseScratchBytes, matmulTransposeASparseAdd, matmulTransposeASparseScratchBytes,
} from './sparse-matmul';
export {
  packRows, gatherSparseRows, matmulSparseRows, matmulTransposeASparseRowsAdd, matmulTransposeASparseRowsScratchBytes,
} from './sparse-rows';
export {
  addRowVector, addColumnSums, activationForward, activationBackward, scaleShiftColumns, sgdStep,
} from './elementwise';
export { batchNormForwardTrain, batchNormBackward } from './batch-norm';
export { groupNormForward, groupNormBackward } from './group-norm';
export { weightNormScale, weightNormBackward, addScaledColumns } from './weight-norm';
export { bytesToFloats, gatherBytesToFloats } from './bytes-to-floats';
export { softmaxCrossEntropy } from './softmax-cross-entropy';
export { exactExpArray } from './exact-exp';

/** The first byte after the module's static data: the host's buffers go from here up. */
export function heapBase(): usize {
  return __heap_base;
}
