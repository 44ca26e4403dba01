/*
 * The kernels behind negligible-updates.c's calls, one table per instruction set
 * (negligible-updates-avx512.c, negligible-updates-avx2.c), each with the wasm kernels' floats,
 * lists and bits (assembly/negligible-updates.ts). A strictly increasing list of columns reaches
 * them as masks of 16-column chunks (column j: bit j % 16 of masks[j / 16]), which
 * negligible-updates.c reads from the list and checks.
 */
#ifndef BNLAB_NATIVE_NEGLIGIBLE_UPDATES_H
#define BNLAB_NATIVE_NEGLIGIBLE_UPDATES_H

#include "native-call.h"

typedef struct {
  /* sums[i] = Σ_t |a[t, i]| for a[m, k], added in t order */
  void (*column_sums)(const float* a, uint32_t m, uint32_t k, float* sums);
  /* maxima[j] = max_t |b[t, j]| for b[m, n]; the quiet NaN 0x7fc00000 where a NaN was */
  void (*column_maxima)(const float* b, uint32_t m, uint32_t n, float* maxima);
  /*
   * keptUpdates' test on each element of c[k, n] (factorOfOld: |old|'s factor, 2^−27/|scale| times
   * the factors' 2^E): the rows holding an update that may count written to keptRows, their count
   * returned; the columns that hold one added to flags (one mask per 16 columns, as the lists').
   */
  uint32_t (*kept_rows)(const float* sums, const float* maxima, const float* c, uint32_t k, uint32_t n, float factorOfOld, uint16_t* flags,
                        uint32_t* keptRows);
  /*
   * packed[p, q] = wide[row p, the q-th column `masks` name] for p < rows, wide's row p being
   * rowList[p] (or p without a list) of `cols` floats, packed's `count` floats (the masks' columns);
   * the two regions do not overlap.
   */
  void (*gather_rows)(const float* wide, uint32_t cols, const uint32_t* rowList, uint32_t rows, const uint16_t* masks, uint32_t count, float* packed);
  /* gather_rows undone: wide[row p, the q-th column `masks` name] = packed[p, q], the other columns left as they were */
  void (*scatter_rows)(float* wide, uint32_t cols, const uint32_t* rowList, uint32_t rows, const uint16_t* masks, uint32_t count, const float* packed);
} negligible_update_kernels_t;

extern const negligible_update_kernels_t avx512_negligible_updates, avx2_negligible_updates;

/* negligible-updates.c's exports, computed by `kernels`. */
void register_negligible_updates(napi_env env, napi_value exports, const negligible_update_kernels_t* kernels);

#endif
