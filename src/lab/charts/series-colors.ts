/**
 * @file Series colors: "without BN" and "with BN" get the same two colors in every chart, and
 * each other normalization its own (Batch Renorm, Ghost BN, Layer, Group, RMS, Weight Norm), so a reader learns them once; any
 * other name takes the next color of a default palette.
 */

/** The legend names the commands use for the two networks of a comparison. */
export const withoutBnName = 'without BN';
export const withBnName = 'with BN';
/** The legend names of the networks with the other norms (`compare --norms`). */
export const withLnName = 'with LN';
export const withGnName = 'with GN';
export const withRmsName = 'with RMSNorm';
export const withBrnName = 'with BRN';
export const withGhostName = 'with Ghost BN';
export const withWnName = 'with WN';

/** Tableau 10, the Vega default palette, split into the reserved colors and the rest. */
const fixedColorByName: ReadonlyMap<string, string> = new Map([
  [withoutBnName, '#f58518'], // orange
  [withBnName, '#4c78a8'], // blue
  [withLnName, '#54a24b'], // green
  [withGnName, '#b279a2'], // purple
  [withRmsName, '#e45756'], // red
  [withBrnName, '#72b7b2'], // teal
  [withGhostName, '#eeca3b'], // yellow
  [withWnName, '#9d755d'], // brown
]);
const defaultPalette: readonly string[] = ['#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac'];

/** An explicit Vega-Lite color scale: `domain[i]` is drawn in `range[i]`, in the given order. */
export interface ColorScale {
  domain: string[];
  range: string[];
}

/**
 * The color scale for these names, in this order (which is also the legend order). Reserved
 * names keep their reserved color; the others take the palette in turn, cycling past eight.
 */
export function colorScaleFor(names: readonly string[]): ColorScale {
  const range: string[] = [];
  let paletteIndex = 0;
  for (const name of names) {
    const fixed = fixedColorByName.get(name);
    if (fixed !== undefined) {
      range.push(fixed);
    } else {
      range.push(defaultPalette[paletteIndex % defaultPalette.length] as string);
      paletteIndex++;
    }
  }
  return { domain: [...names], range };
}

/** The reserved color of a name, if it has one (for a page that draws its own legend). */
export function fixedSeriesColor(name: string): string | undefined {
  return fixedColorByName.get(name);
}
