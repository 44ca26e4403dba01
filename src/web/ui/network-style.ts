/**
 * @file How the page names and colors the two networks: the charts' reserved colors (orange
 * without BN, blue with BN) and their legend names, so canvases and Vega charts agree.
 */
import { fixedSeriesColor, withBnName, withoutBnName } from '../../lab/charts/series-colors.js';

export function networkLabel(batchNorm: boolean): string {
  return batchNorm ? withBnName : withoutBnName;
}

export function networkColor(batchNorm: boolean): string {
  return fixedSeriesColor(networkLabel(batchNorm))!;
}

/** The network's color at `alpha` opacity, for bands and fills. */
export function networkFill(batchNorm: boolean, alpha: number): string {
  const hex = networkColor(batchNorm);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Both networks, in the order every view lists them. */
export const NETWORKS: readonly boolean[] = [false, true];
