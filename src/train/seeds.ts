/**
 * @file Independent random streams from one user seed: the initial weights and the batch order
 * each get their own generator, so changing how many numbers one consumes never shifts the other.
 */

export type StreamName = 'weights' | 'batches' | 'experiment';

const STREAM_TAGS: Record<StreamName, number> = { weights: 0x243f6a88, batches: 0x85a308d3, experiment: 0x13198a2e };

/** A 32-bit seed for `stream`, mixed from the user seed (a murmur3-style finalizer). */
export function deriveSeed(seed: number, stream: StreamName): number {
  let h = (Math.trunc(seed) ^ STREAM_TAGS[stream]) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= Math.trunc(seed / 2 ** 32);
  return (h ^ (h >>> 16)) >>> 0;
}
