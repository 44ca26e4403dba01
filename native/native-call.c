/* The checked reading of a native call's arguments, and the lane orders of the 256-bit compress and expand (native-call.h). */
#include "native-call.h"

#include <stdio.h>

void fail(call_t* call, const char* what) {
  if (call->failed) return;
  call->failed = 1;
  char message[200];
  snprintf(message, sizeof message, "%s (native): %s", call->kernel, what);
  napi_throw_range_error(call->env, NULL, message);
}

int start_call(call_t* call, napi_env env, napi_callback_info info, napi_value* args, size_t expected, const char* kernel) {
  call->env = env;
  call->args = args;
  call->count = expected;
  call->kernel = kernel;
  call->failed = 0;
  size_t given = expected;
  napi_get_cb_info(env, info, &given, args, NULL, NULL);
  void* data = NULL;
  bool isBuffer = false;
  if (given != expected) return fail(call, "wrong number of arguments"), 0;
  if (napi_is_arraybuffer(env, args[0], &isBuffer) != napi_ok || !isBuffer) return fail(call, "the first argument must be the wasm memory's ArrayBuffer"), 0;
  napi_get_arraybuffer_info(env, args[0], &data, &call->length);
  call->memory = (uint8_t*)data;
  return 1;
}

uint32_t arg_u32(call_t* call, size_t i) {
  double x = -1;
  napi_get_value_double(call->env, call->args[i], &x);
  if (!(x >= 0 && x <= 4294967295.0 && x == (double)(uint32_t)x)) fail(call, "an offset or size is not a u32");
  return (uint32_t)x;
}

float arg_f32(call_t* call, size_t i) {
  double x = 0;
  napi_get_value_double(call->env, call->args[i], &x);
  return (float)x;
}

void* region(call_t* call, uint32_t offset, double count, size_t size) {
  if (call->failed) return NULL;
  if ((offset & 3) != 0 || (double)offset + count * (double)size > (double)call->length) {
    fail(call, "a region lies outside the wasm memory or is misaligned");
    return NULL;
  }
  return call->memory + offset;
}

void* optional_region(call_t* call, uint32_t offset, double count, size_t size) {
  return offset ? region(call, offset, count, size) : NULL;
}

int columns_ok(call_t* call, uint32_t n) {
  if (n % 16 != 0) return fail(call, "the columns must be a multiple of 16"), 0;
  return 1;
}

uint32_t kept_lanes_first[256], kept_lanes_below[256];

__attribute__((constructor)) static void fill_lane_orders(void) {
  for (uint32_t kept = 0; kept < 256; kept++) {
    uint32_t first = 0, below = 0, at = 0;
    for (uint32_t lane = 0; lane < 8; lane++) {
      below |= at << (4 * lane);
      if (kept & (1u << lane)) first |= lane << (4 * at++);
    }
    kept_lanes_first[kept] = first;
    kept_lanes_below[kept] = below;
  }
}

void export_function(napi_env env, napi_value exports, const char* name, napi_callback callback) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}
