/**
 * @file `--norms none,bn,ln`: the list of normalizations a command trains side by side (compare,
 * reproduce), each named once.
 */
import { NORM_KINDS, type NormKind } from '../nn/spec.js';
import { UsageError } from './errors.js';
import { parseChoice } from './parse.js';

/** The norms of a comma-separated list, in its order; an unknown or repeated one is a UsageError naming `flag`. */
export function parseNormList(flag: string, text: string): NormKind[] {
  const norms = text.split(',').map((part) => parseChoice<NormKind>(flag, part.trim(), NORM_KINDS));
  const twice = norms.find((norm, i) => norms.indexOf(norm) !== i);
  if (twice !== undefined) throw new UsageError(`${flag} lists ${twice} twice: name each norm once`);
  return norms;
}
