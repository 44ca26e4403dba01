/**
 * @file How the page names and colors its two networks, by their norms: the charts' reserved
 * colors (orange without BN, blue with BN, green with Layer Norm, …) and legend names
 * (`normSeriesName`), the status cards' titles (`networkName`, as the CLI prints them) and the
 * ids and file names ("without-bn", "with-bn", "with-ln"), so canvases and Vega charts agree.
 */
import { fixedSeriesColor } from '../../lab/charts/series-colors.js';
import { networkSlug } from '../../lab/live/session-messages.js';
import { networkName, normSeriesName } from '../../lab/run-summary.js';
import { BATCH_VARIANT_NORMS, type NormKind } from '../../nn/spec.js';

/** The two networks' norms, left then right (the order of every view and of compare.json's runs). */
export type NormPair = readonly [NormKind, NormKind];

/** The page's pair as it always was: without BN on the left, with BN on the right. */
export const DEFAULT_NORMS: NormPair = Object.freeze(['none', 'bn'] as const);

/** The chart legend's name: "without BN", "with BN", "with LN"… */
export function networkLabel(norm: NormKind): string {
  return normSeriesName(norm);
}

/** The status card's title, as the CLI prints it: "Without Batch Norm", "With Layer Norm"… */
export function networkTitle(norm: NormKind): string {
  return networkName(norm);
}

/** "without Batch Norm", "with Layer Norm": the title inside a sentence. */
export function networkPhrase(norm: NormKind): string {
  const title = networkName(norm);
  return title.charAt(0).toLowerCase() + title.slice(1);
}

/** For element ids and file names: "without-bn", "with-bn", "with-ln"… */
export { networkSlug };

export function networkColor(norm: NormKind): string {
  return fixedSeriesColor(networkLabel(norm)) ?? '#888888';
}

/** The network's color at `alpha` opacity, for bands and fills. */
export function networkFill(norm: NormKind, alpha: number): string {
  const hex = networkColor(norm);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** The network's color for text on white: darkened where the chart color is too light to read (orange, yellow, teal…). */
export function networkTextColor(norm: NormKind): string {
  if (norm === 'none') return '#c0620a';
  if (norm === 'bn') return networkColor(norm);
  const hex = networkColor(norm);
  const [r, g, b] = [1, 3, 5].map((i) => Math.round(parseInt(hex.slice(i, i + 2), 16) * 0.7));
  return `rgb(${r}, ${g}, ${b})`;
}

/** BN and its successors (Batch Renorm, Ghost BN): batch statistics in training, moving averages at inference. */
export function hasBatchStatistics(norm: NormKind): boolean {
  return norm === 'bn' || BATCH_VARIANT_NORMS.includes(norm);
}
