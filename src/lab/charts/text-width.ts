/**
 * @file The width of a line of text in DejaVu Sans, from the font's own advance widths. Vega
 * lays out titles, legends and axis labels by measuring text; in a browser it asks a canvas, but
 * headless it guesses 0.8 em per character, which is a third too wide for DejaVu and pushes
 * legends and titles out of place. render-chart.ts plugs this measure in instead.
 */

/** Font units per em in DejaVu Sans and DejaVu Sans Bold. */
const unitsPerEm = 2048;

// Advance widths of the characters U+0020 (space) to U+007E (~), in font units, read from the
// hmtx table of /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf and DejaVuSans-Bold.ttf
// (fonts-dejavu-core 2.37) through their cmap. Kerning is ignored: it moves text by under 1%.
const regularAsciiWidths: readonly number[] = [
  651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690,
  1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499,
  1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300,
  1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716,
];
const boldAsciiWidths: readonly number[] = [
  713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819,
  1716, 1716, 1716, 1188, 2048, 1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663,
  1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362, 702, 2134, 1458, 1407, 1466,
  1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458, 1716,
];
/** A few non-ASCII characters that chart text uses (same source), as [regular, bold]. */
const otherWidths: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['\u2026', [2048, 2048]], // … (vega's ellipsis when it truncates)
  ['\u2019', [651, 778]], // ’
  ['\u2212', [1716, 1716]], // − (minus in d3 number formats)
  ['\u00b7', [651, 778]], // ·
  ['\u00d7', [1716, 1716]], // ×
  ['\u2014', [2048, 2048]], // —
  ['\u2013', [1024, 1024]], // –
  ['\u03b3', [1212, 1395]], // γ
  ['\u03b2', [1307, 1466]], // β
  ['\u03c3', [1298, 1595]], // σ
  ['\u03bc', [1303, 1507]], // μ
  ['\u03b5', [1107, 1140]], // ε
]);
/** Any other character is taken as wide as a digit, the typical width of a Latin letter. */
const fallbackWidths: readonly [number, number] = [1303, 1425];

/** Width in pixels of `text` set in DejaVu Sans at `fontSizePx`, bold or regular. */
export function dejaVuSansTextWidth(text: string, fontSizePx: number, bold: boolean): number {
  const ascii = bold ? boldAsciiWidths : regularAsciiWidths;
  let widthUnits = 0;
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const asciiWidth = code >= 0x20 && code <= 0x7e ? ascii[code - 0x20] : undefined;
    if (asciiWidth !== undefined) {
      widthUnits += asciiWidth;
    } else {
      const pair = otherWidths.get(character) ?? fallbackWidths;
      widthUnits += bold ? pair[1] : pair[0];
    }
  }
  return (widthUnits * fontSizePx) / unitsPerEm;
}
