/**
 * @file The registry of the article's claims, in the order `bnlab explain` runs and reports them.
 */

import { batchSizeClaim } from './batch-size.js';
import { biasRedundancyClaim } from './bias-redundancy.js';
import type { Claim } from './claim.js';
import { covariateShiftClaim } from './covariate-shift.js';
import { foldingClaim } from './folding.js';
import { inferenceStatisticsClaim } from './inference-statistics.js';
import { noisyBnClaim } from './noisy-bn.js';
import { nonIidBatchesClaim } from './non-iid-batches.js';
import { placementClaim } from './placement.js';
import { regularizationClaim } from './regularization.js';
import { saturationClaim } from './saturation.js';
import { scaleInvarianceClaim } from './scale-invariance.js';
import { smallBatchClaim } from './small-batch.js';
import { smoothnessClaim } from './smoothness.js';
import { syncBnClaim } from './sync-bn.js';
import { workedExampleClaim } from './worked-example.js';

export type { Claim, ClaimResult } from './claim.js';

export const CLAIMS: readonly Claim[] = [
  workedExampleClaim,
  covariateShiftClaim,
  saturationClaim,
  scaleInvarianceClaim,
  inferenceStatisticsClaim,
  regularizationClaim,
  batchSizeClaim,
  biasRedundancyClaim,
  foldingClaim,
  smoothnessClaim,
  noisyBnClaim,
  smallBatchClaim,
  nonIidBatchesClaim,
  syncBnClaim,
  placementClaim,
];

export const CLAIM_NAMES: readonly string[] = CLAIMS.map((claim) => claim.name);

/** The claim called `name`, or undefined. */
function findClaim(name: string): Claim | undefined {
  return CLAIMS.find((claim) => claim.name === name);
}

/**
 * The claims `names` asks for, in registry order without repeats; all of them when `names` is
 * empty. Unknown names are returned separately so the caller can say which and list the known ones.
 */
export function selectClaims(names: readonly string[]): { claims: Claim[]; unknown: string[] } {
  const unknown = names.filter((name) => !findClaim(name));
  const claims = names.length === 0 ? [...CLAIMS] : CLAIMS.filter((claim) => names.includes(claim.name));
  return { claims, unknown };
}
