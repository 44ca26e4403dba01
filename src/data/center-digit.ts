/**
 * @file A drawn digit made into an MNIST image, as LeCun et al. prepared MNIST: the ink's bounding
 * box is scaled (aspect ratio kept, by area averaging) to fit a 20×20 box, then placed in the
 * 28×28 field so that its center of mass lies at the field's center. Pure: pixels in, bytes out,
 * no DOM, so the page's canvas and a Node test call the same code.
 */
import { MNIST_IMAGE_SIDE } from './mnist.js';

/** The box the digit's larger side is scaled to (MNIST's normalization). */
export const DIGIT_BOX = 20;
/**
 * Where the center of mass goes, in pixel-index coordinates (pixel (x, y) has its mass at x, y).
 * MNIST's own test images average (14.01, 13.99) in these coordinates, so 14 is MNIST's center.
 */
export const MASS_CENTER = 14;

/**
 * The 784 bytes (row-major 28×28, 0 = background) of the digit drawn in `pixels`, a W×H image
 * of ink intensity 0..255 read at `(y·width + x)·channels` (channels = 4 reads the red channel
 * of RGBA ImageData, white ink on black). Every pixel above 0 counts as ink; the result is
 * stretched so that its strongest ink is 255, as in MNIST. An image without ink gives zeros.
 */
export function centerDigit(pixels: ArrayLike<number>, width: number, height: number, channels = 1): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || !Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`an image needs whole positive sizes, got ${width}×${height} with ${channels} channels`);
  }
  if (pixels.length < width * height * channels) {
    throw new RangeError(`a ${width}×${height} image with ${channels} channels needs ${width * height * channels} values, got ${pixels.length}`);
  }
  const side = MNIST_IMAGE_SIDE;
  const out = new Uint8Array(side * side);
  const ink = (x: number, y: number): number => pixels[(y * width + x) * channels]!;

  // The ink's bounding box.
  let left = width,
    right = -1,
    top = height,
    bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink(x, y) > 0) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  if (right < 0) return out;
  const boxWidth = right - left + 1,
    boxHeight = bottom - top + 1;

  // Scaled so the larger side is 20 pixels, the smaller in proportion (at least 1).
  const scale = DIGIT_BOX / Math.max(boxWidth, boxHeight);
  const scaledWidth = Math.max(1, Math.min(DIGIT_BOX, Math.round(boxWidth * scale)));
  const scaledHeight = Math.max(1, Math.min(DIGIT_BOX, Math.round(boxHeight * scale)));
  const columns = areaWeights(boxWidth, scaledWidth);
  const rows = areaWeights(boxHeight, scaledHeight);
  // Area averaging, separable: first along x for every source row, then along y.
  const alongX = new Float64Array(boxHeight * scaledWidth); // [boxHeight, scaledWidth]
  for (let y = 0; y < boxHeight; y++) {
    for (let ox = 0; ox < scaledWidth; ox++) {
      let sum = 0;
      for (const [x, weight] of columns[ox]!) sum += weight * ink(left + x, top + y);
      alongX[y * scaledWidth + ox] = sum;
    }
  }
  const scaled = new Float64Array(scaledHeight * scaledWidth); // [scaledHeight, scaledWidth]
  let mass = 0,
    massX = 0,
    massY = 0;
  for (let oy = 0; oy < scaledHeight; oy++) {
    for (let ox = 0; ox < scaledWidth; ox++) {
      let sum = 0;
      for (const [y, weight] of rows[oy]!) sum += weight * alongX[y * scaledWidth + ox]!;
      scaled[oy * scaledWidth + ox] = sum;
      mass += sum;
      massX += sum * ox;
      massY += sum * oy;
    }
  }

  // The whole-pixel shift that puts the center of mass nearest (14, 14) (within half a pixel,
  // and strokes stay as sharp as scaling left them), kept inside the field: a lopsided digit
  // would otherwise lose ink over the edge.
  const shiftX = clamp(Math.round(MASS_CENTER - massX / mass), 0, side - scaledWidth);
  const shiftY = clamp(Math.round(MASS_CENTER - massY / mass), 0, side - scaledHeight);
  const placed = new Float64Array(side * side);
  for (let sy = 0; sy < scaledHeight; sy++) {
    placed.set(scaled.subarray(sy * scaledWidth, (sy + 1) * scaledWidth), (sy + shiftY) * side + shiftX);
  }
  let peak = 0;
  for (const value of placed) if (value > peak) peak = value;
  for (let i = 0; i < placed.length; i++) out[i] = Math.round((placed[i]! / peak) * 255);
  return out;
}

/** For each of `to` output cells, the source cells of a row of `from` it covers and the fraction of it covered (weights sum to 1). */
function areaWeights(from: number, to: number): Array<Array<[number, number]>> {
  const ratio = from / to; // source cells per output cell
  const weights: Array<Array<[number, number]>> = [];
  for (let o = 0; o < to; o++) {
    const start = o * ratio,
      end = (o + 1) * ratio;
    const cells: Array<[number, number]> = [];
    for (let s = Math.floor(start); s < Math.min(from, Math.ceil(end)); s++) {
      const covered = Math.min(end, s + 1) - Math.max(start, s);
      if (covered > 0) cells.push([s, covered / ratio]);
    }
    weights.push(cells);
  }
  return weights;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
