/* The reference xoshiro128** by Blackman & Vigna (public domain), printing the first outputs
   from the state {1, 2, 3, 4}: the golden values test/core/rng.test.ts checks bnlab's Rng against.
   Build and run: gcc -O2 -o /tmp/xoshiro scripts/xoshiro-reference.c && /tmp/xoshiro */
#include <stdint.h>
#include <stdio.h>
static inline uint32_t rotl(const uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static uint32_t s[4] = {1, 2, 3, 4};
uint32_t next(void) {
  const uint32_t result = rotl(s[1] * 5, 7) * 9;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t; s[3] = rotl(s[3], 11);
  return result;
}
int main(void) {
  for (int i = 0; i < 8; i++) printf("%u%s", next(), i < 7 ? ", " : "\n");
  return 0;
}
