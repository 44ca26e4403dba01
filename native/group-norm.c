/*
 * Group Norm's kernels (assembly/group-norm.ts: Group Norm per example, and so Layer Norm, one
 * group, and RMSNorm, one group not centered, no beta) on the wasm memory, with the same bits as
 * the relaxed-SIMD build on FMA hardware, for groups of s = n/groups units where s is 4 and the
 * groups a multiple of 4 (Group Norm's default: 32 groups of 4 at 128 units), or s a multiple of
 * 16 (Layer Norm and RMSNorm at 128 or 784 units). Elsewhere the wasm kernels run (groups of 8 or
 * 12 took longer here than theirs; sizes not a multiple of 4 end in scalar tails). Here each
 * call's arguments are read and checked, its groups too; the kernels of the CPU's instruction set
 * (group-norm-avx512.c or group-norm-avx2.c) compute.
 *
 * A row's groups lie one after the other, and so do the rows: x[m, n] is m·groups groups of s floats
 * end to end (an "instance": one example's group; instance j at float j·s, its 1/σ at invStd[j]).
 * The wasm kernel sums each group's f32x4 vectors lane by lane (lane l of vector k is float
 * 4k + l), then folds the four lanes as (l0 + l2) + (l1 + l3), four groups at a time (`sumLanes4`)
 * or one (`sumLanes`, the same fold); every statistic after that is per group, the same operations
 * in either path. The kernels keep each group's lane sums and fold, several groups to a vector.
 *
 * Every operation is the wasm kernel's, in its operand order (the commutative adds and multiplies
 * through native-call.h's helpers, so that two NaNs meeting keep the wasm kernel's); where the wasm
 * kernel adds to +0 (a sum's start, a missing beta) or multiplies by 1 (a missing gamma), so do
 * they. Which NaN a fused multiply-add keeps when two of other bits meet in it V8 leaves to its
 * register allocator, and so do they, to the compiler's; so too the last add of a group the wasm
 * kernel folds alone (a scalar add, whose operands V8's optimizing tier swaps).
 */
#include "group-norm.h"

/* The kernels in use (register_group_norm). */
static const group_norm_kernels_t* kernels;

/* Whether n units go in `groups` groups the kernels take; 0 (and a throw) where not. */
static int groups_ok(call_t* call, uint32_t n, uint32_t groups) {
  if (call->failed) return 0;
  if (n == 0 || groups == 0 || n % groups != 0 || !((n / groups == 4 && groups % 4 == 0) || (n / groups) % 16 == 0))
    return fail(call, "the groups must be of 4 units, in a count that is a multiple of 4, or of a multiple of 16"), 0;
  return 1;
}

/* groupNormForward(memory, x, m, n, groups, centered, eps, gamma, beta, invStd, xhat, y): as assembly/group-norm.ts' (gamma, beta 0: none). */
static napi_value group_norm_forward(napi_env env, napi_callback_info info) {
  napi_value args[12];
  call_t call;
  if (!start_call(&call, env, info, args, 12, "groupNormForward")) return NULL;
  const uint32_t m = arg_u32(&call, 2), n = arg_u32(&call, 3), groups = arg_u32(&call, 4), centered = arg_u32(&call, 5);
  const float eps = arg_f32(&call, 6);
  if (!groups_ok(&call, n, groups)) return NULL;
  const double size = (double)m * n;
  const float* x = region(&call, arg_u32(&call, 1), size, 4);
  const float* gamma = optional_region(&call, arg_u32(&call, 7), n, 4);
  const float* beta = optional_region(&call, arg_u32(&call, 8), n, 4);
  float* invStd = region(&call, arg_u32(&call, 9), (double)m * groups, 4);
  float* xhat = region(&call, arg_u32(&call, 10), size, 4);
  float* y = region(&call, arg_u32(&call, 11), size, 4);
  if (call.failed) return NULL;
  kernels->forward(x, m, n, groups, centered, eps, gamma, beta, invStd, xhat, y);
  return NULL;
}

/* groupNormBackward(memory, dy, xhat, invStd, groups, centered, gamma, m, n, dx, dGamma, dBeta): as assembly/group-norm.ts' (0: none). */
static napi_value group_norm_backward(napi_env env, napi_callback_info info) {
  napi_value args[12];
  call_t call;
  if (!start_call(&call, env, info, args, 12, "groupNormBackward")) return NULL;
  const uint32_t groups = arg_u32(&call, 4), centered = arg_u32(&call, 5), m = arg_u32(&call, 7), n = arg_u32(&call, 8);
  if (!groups_ok(&call, n, groups)) return NULL;
  const double size = (double)m * n;
  const float* dy = region(&call, arg_u32(&call, 1), size, 4);
  const float* xhat = region(&call, arg_u32(&call, 2), size, 4);
  const float* invStd = region(&call, arg_u32(&call, 3), (double)m * groups, 4);
  const float* gamma = optional_region(&call, arg_u32(&call, 6), n, 4);
  float* dx = region(&call, arg_u32(&call, 9), size, 4);
  float* dGamma = optional_region(&call, arg_u32(&call, 10), n, 4);
  float* dBeta = optional_region(&call, arg_u32(&call, 11), n, 4);
  if (call.failed) return NULL;
  kernels->backward(dy, xhat, invStd, groups, centered, gamma, m, n, dx, dGamma, dBeta);
  return NULL;
}

void register_group_norm(napi_env env, napi_value exports, const group_norm_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "groupNormForward", group_norm_forward);
  export_function(env, exports, "groupNormBackward", group_norm_backward);
}
