/**
 * @file The rule that says whether a bnlab figure agrees with the article's, stated once here and
 * printed verbatim in every report. Seeds vary a final accuracy by a few tenths of a percent, so
 * the tolerance is one percentage point or two standard deviations over seeds, whichever is
 * larger. A run the article reports as failed (about 10% accuracy, chance on ten classes) agrees
 * when bnlab's fails too: where a network fails, the exact chance-level figure is noise. Pure.
 */

/** Below this accuracy a run has failed: chance is 10%, and no trained network stays under 20%. */
const FAILED_BELOW = 0.2;
/** The smallest tolerance: one percentage point. */
const MIN_TOLERANCE = 0.01;
/** Tolerance in standard deviations over seeds. */
const STD_MULTIPLIER = 2;

export const VERDICT_RULE =
  `A cell agrees when |bnlab − article| ≤ max(${MIN_TOLERANCE}, ${STD_MULTIPLIER}·std over seeds) ` +
  `(std is 0 with one seed). Where the article reports a failed run (accuracy below ${FAILED_BELOW}, i.e. about chance, 10%), ` +
  `the cell agrees when bnlab's run fails too (mean accuracy below ${FAILED_BELOW}). ` +
  'Otherwise it differs, by the signed difference bnlab − article. Where the article has no figure for the steps run, the cell is not compared.';

export type Verdict =
  | { kind: 'agrees'; difference: number; tolerance: number; failedBoth: boolean }
  | { kind: 'differs'; difference: number; tolerance: number; articleFailed: boolean; bnlabFailed: boolean }
  | { kind: 'not-compared'; reason: string };

/** The verdict on one cell: bnlab's mean (and std over seeds) against the article's figure. */
export function verdictFor(
  bnlabMean: number,
  bnlabStd: number,
  article: number | null,
  notComparedReason = 'the article has no figure for these settings',
): Verdict {
  if (article === null) return { kind: 'not-compared', reason: notComparedReason };
  const difference = bnlabMean - article;
  const tolerance = Math.max(MIN_TOLERANCE, STD_MULTIPLIER * (Number.isFinite(bnlabStd) ? bnlabStd : 0));
  const articleFailed = article < FAILED_BELOW;
  const bnlabFailed = !(bnlabMean >= FAILED_BELOW); // NaN counts as failed
  if (articleFailed && bnlabFailed) return { kind: 'agrees', difference, tolerance, failedBoth: true };
  if (!articleFailed && Math.abs(difference) <= tolerance) return { kind: 'agrees', difference, tolerance, failedBoth: false };
  return { kind: 'differs', difference, tolerance, articleFailed, bnlabFailed };
}

/** "+0.0123" / "−0.0456": a signed accuracy difference. */
function formatDifference(difference: number): string {
  if (!Number.isFinite(difference)) return String(difference);
  const sign = difference < 0 ? '−' : '+';
  return `${sign}${Math.abs(difference).toFixed(4)}`;
}

/** A short word for a table cell: "agrees", "differs (+0.0123)", "not compared". */
export function verdictLabel(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'agrees':
      return verdict.failedBoth ? 'agrees (both fail)' : 'agrees';
    case 'differs':
      return `differs (${formatDifference(verdict.difference)})`;
    case 'not-compared':
      return 'not compared';
    default:
      return verdict satisfies never;
  }
}

/** A sentence for the list of differing cells, saying by how much and why. */
export function verdictExplanation(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'agrees':
      return verdict.failedBoth
        ? 'both runs fail (accuracy about chance)'
        : `within ${verdict.tolerance.toFixed(4)} (difference ${formatDifference(verdict.difference)})`;
    case 'differs': {
      const by = `differs by ${formatDifference(verdict.difference)} (${(Math.abs(verdict.difference) * 100).toFixed(2)} percentage points`;
      if (verdict.articleFailed) return `${by}; the article's run failed, bnlab's did not)`;
      if (verdict.bnlabFailed) return `${by}; bnlab's run failed, the article's did not)`;
      return `${by}; tolerance ${verdict.tolerance.toFixed(4)})`;
    }
    case 'not-compared':
      return `not compared: ${verdict.reason}`;
    default:
      return verdict satisfies never;
  }
}
