/**
 * @file What both HTML reports (the grid's and explain's) need to put text and charts in one
 * self-contained page: HTML escaping, and SVG documents made fit to inline side by side.
 */

export function escapeHtml(text: string | number): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * An SVG document made fit for inlining: no XML prolog or doctype, and every id it defines and
 * every reference to one prefixed, so that several SVGs in one page do not resolve each other's
 * clip paths (vega numbers them clip1, clip2… in each, and a browser takes the first clip1 of
 * the page for every chart: curves cut off or gone).
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/^\s*<\?xml[^>]*>\s*/, '')
    .replace(/<!DOCTYPE[^>]*>\s*/i, '')
    .replace(/\sid="([^"]+)"/g, (_m, id: string) => ` id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/(xlink:href|href)="#([^"]+)"/g, (_m, attribute: string, id: string) => `${attribute}="#${prefix}-${id}"`);
}
