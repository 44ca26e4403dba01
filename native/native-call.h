/*
 * What every native file shares: the vector target, adds and multiplies in the wasm kernels'
 * operand order, and the checked reading of a call's arguments (the wasm memory as an
 * ArrayBuffer, then byte offsets and counts, each region checked against the memory's length
 * before it is touched, so that a wrong call throws a RangeError instead of reading outside it).
 */
#ifndef BNLAB_NATIVE_CALL_H
#define BNLAB_NATIVE_CALL_H

#include <immintrin.h>
#include <node_api.h>
#include <stdint.h>

#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))

/*
 * a + b and a·b with a as the instruction's first source. Where both are NaN, x86 keeps the first
 * source's NaN, and V8 emits f32x4.add(a, b) with a first; the compiler would otherwise take
 * either order (the operations commute, their NaN bits do not), so they are written out.
 */
AVX512 static inline __m512 add_in_order(__m512 a, __m512 b) {
  __m512 sum;
  __asm__("vaddps %2, %1, %0" : "=v"(sum) : "v"(a), "v"(b));
  return sum;
}

AVX512 static inline __m512 mul_in_order(__m512 a, __m512 b) {
  __m512 product;
  __asm__("vmulps %2, %1, %0" : "=v"(product) : "v"(a), "v"(b));
  return product;
}

/* The same in 256-bit vectors (products-avx2.c). */
AVX2 static inline __m256 add_in_order_256(__m256 a, __m256 b) {
  __m256 sum;
  __asm__("vaddps %2, %1, %0" : "=x"(sum) : "x"(a), "x"(b));
  return sum;
}

AVX2 static inline __m256 mul_in_order_256(__m256 a, __m256 b) {
  __m256 product;
  __asm__("vmulps %2, %1, %0" : "=x"(product) : "x"(a), "x"(b));
  return product;
}

/* -v (its sign bit flipped, as the wasm kernels' f32x4.neg): batch-norm-avx2.c, group-norm-avx2.c. */
AVX2 static inline __m256 negated(__m256 v) {
  return _mm256_xor_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
}

/* The first `count` lanes of a 16-float vector (all of them from 16 on). */
static inline __mmask16 first_lanes(uint32_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
}

/* The first `count` lanes of an 8-float vector, as a mask vector (all of them from 8 on). */
AVX2 static inline __m256i first_lanes8(uint32_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count < 8 ? count : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/*
 * AVX-512's compress and expand of eight lanes, for 256-bit vectors: for each 8-bit mask of kept
 * lanes, the kept lanes' numbers in order, and for each lane the number of kept lanes below it,
 * four bits a lane (lowest first). Filled when the addon loads (native-call.c); hidden, so that
 * they are read straight rather than through the global offset table.
 */
__attribute__((visibility("hidden"))) extern uint32_t kept_lanes_first[256], kept_lanes_below[256];

/* The permutation (for permutevar8x32, which reads each lane's low 3 bits) that moves the kept lanes to the front (products-avx2.c). */
AVX2 static inline __m256i compress_order(uint32_t kept) {
  return _mm256_srlv_epi32(_mm256_set1_epi32((int)kept_lanes_first[kept]), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
}

/* The permutation that moves the first lanes to the kept ones, in order: compress_order undone on the kept lanes (negligible-updates-avx2.c). */
AVX2 static inline __m256i expand_order(uint32_t kept) {
  return _mm256_srlv_epi32(_mm256_set1_epi32((int)kept_lanes_below[kept]), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
}

/* One call being read: its arguments, the memory they point into, and whether it has failed (a RangeError is pending). */
typedef struct {
  napi_env env;
  napi_value* args;
  size_t count;
  uint8_t* memory;
  size_t length;
  const char* kernel;
  int failed;
} call_t;

/* Throws "<kernel> (native): <what>" as a RangeError, once per call. */
void fail(call_t* call, const char* what);
/* Reads the `expected` arguments into args, the first being the memory; 0 (and a throw) if they are not that. */
int start_call(call_t* call, napi_env env, napi_callback_info info, napi_value* args, size_t expected, const char* kernel);
uint32_t arg_u32(call_t* call, size_t i);
float arg_f32(call_t* call, size_t i);
/* A region of `count` elements of `size` bytes at `offset`, 4-byte aligned and inside memory; NULL (and a throw) if not. */
void* region(call_t* call, uint32_t offset, double count, size_t size);
/* An optional region: NULL for offset 0 (none), else as region() (NULL and a throw if bad: call->failed tells the two apart). */
void* optional_region(call_t* call, uint32_t offset, double count, size_t size);
/* n whole 512-bit vectors of floats (a multiple of 16); 0 (and a throw) if not. */
int columns_ok(call_t* call, uint32_t n);
void export_function(napi_env env, napi_value exports, const char* name, napi_callback callback);

#endif
