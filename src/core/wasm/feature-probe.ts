/**
 * @file What this JavaScript engine's WebAssembly can run, asked by validating two tiny
 * hand-assembled modules (no compile, no instance): one function returning a v128 constant
 * (SIMD128), one applying f32x4.relaxed_madd (relaxed SIMD). Works in a browser and in Node.
 */

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const TYPE_RETURNS_V128 = [0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b]; // type section: () -> v128
const ONE_FUNCTION = [0x03, 0x02, 0x01, 0x00]; // function section: one function of type 0
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0

/** A module whose one function body is `code` followed by `end`. */
function moduleWithBody(code: number[]): Uint8Array<ArrayBuffer> {
  const body = [0x00, ...code, 0x0b]; // no locals, code, end
  const section = [0x01, body.length, ...body]; // one body, its size, the body
  return new Uint8Array([...HEADER, ...TYPE_RETURNS_V128, ...ONE_FUNCTION, 0x0a, section.length, ...section]);
}

const SIMD128_PROBE = moduleWithBody(V128_ZERO);
// f32x4.relaxed_madd is opcode 0xfd 0x105 (LEB128: 0x85 0x02).
const RELAXED_SIMD_PROBE = moduleWithBody([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether WebAssembly SIMD128 (v128) validates here. */
export function supportsWasmSimd(): boolean {
  return validates(SIMD128_PROBE);
}

/** Whether relaxed SIMD validates here (Chromium and Node 22+ by default; Node 20 behind a flag). */
export function supportsRelaxedSimd(): boolean {
  return validates(RELAXED_SIMD_PROBE);
}
