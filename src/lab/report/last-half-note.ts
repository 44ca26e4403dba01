/**
 * @file What the reports say about the two validation figures they show, written once for the
 * article's report and a sweep's (Markdown and HTML alike): the final accuracy and the mean over
 * the last half of the curve (last-half.ts). Pure.
 */

/** What the last-half mean is, and why a report shows it beside the final value. */
export const LAST_HALF_EXPLANATION =
  "The last-half mean is a run's validation accuracy averaged over the points of its curve at step ≥ steps/2: " +
  'for a run that oscillates, the final value is one sample of its swing, and the last-half mean is its level.';

/** Which figure the article report's verdicts compare. */
export const ARTICLE_VERDICT_BASIS =
  "The verdicts compare the final validation and test accuracy, because the article's table reports final values; " +
  "bnlab's last-half mean is shown beside the final validation accuracy.";
