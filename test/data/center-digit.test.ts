/**
 * @file centerDigit against the MNIST preparation it imitates (LeCun et al.: fit in 20×20 keeping
 * the aspect ratio, center of mass at the center of 28×28), on synthetic images whose bounding
 * box and center of mass are known by construction, and on real MNIST digits drawn large, as a
 * user draws on the page's 280×280 canvas: they must come back close to the original image.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { centerDigit, DIGIT_BOX, MASS_CENTER } from '../../src/data/center-digit.js';
import { loadMnist } from '../../src/node/mnist-files.js';

const SIDE = 28;

/** A W×H canvas (one channel) with the rectangles given filled with `value`. */
function canvas(width: number, height: number, boxes: Array<{ x: number; y: number; w: number; h: number; value?: number }>): Uint8ClampedArray {
  const pixels = new Uint8ClampedArray(width * height);
  for (const box of boxes) {
    for (let y = box.y; y < box.y + box.h; y++) for (let x = box.x; x < box.x + box.w; x++) pixels[y * width + x] = box.value ?? 255;
  }
  return pixels;
}

function massCenter(image: Uint8Array): { x: number; y: number } {
  let mass = 0,
    x = 0,
    y = 0;
  for (let i = 0; i < image.length; i++) {
    mass += image[i]!;
    x += image[i]! * (i % SIDE);
    y += image[i]! * Math.floor(i / SIDE);
  }
  return { x: x / mass, y: y / mass };
}

function inkBox(image: Uint8Array, threshold = 0): { left: number; right: number; top: number; bottom: number } {
  let left = SIDE,
    right = -1,
    top = SIDE,
    bottom = -1;
  for (let i = 0; i < image.length; i++) {
    if (image[i]! > threshold) {
      const x = i % SIDE,
        y = Math.floor(i / SIDE);
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return { left, right, top, bottom };
}

function assertCentred(image: Uint8Array): void {
  const center = massCenter(image);
  assert.ok(
    Math.abs(center.x - MASS_CENTER) <= 0.5 && Math.abs(center.y - MASS_CENTER) <= 0.5,
    `center of mass (${center.x.toFixed(3)}, ${center.y.toFixed(3)}) is more than 0.5 px from (14, 14)`,
  );
}

describe('centerDigit', () => {
  test('an empty canvas gives 784 zeros', () => {
    const image = centerDigit(new Uint8ClampedArray(280 * 280), 280, 280);
    assert.equal(image.length, 784);
    assert.ok(image.every((value) => value === 0));
  });

  test('a centred square stays centred and fills the 20×20 box exactly', () => {
    // 100×100 square in the middle of 280×280: scale 0.2 maps it onto 20×20 whole pixels.
    const image = centerDigit(canvas(280, 280, [{ x: 90, y: 90, w: 100, h: 100 }]), 280, 280);
    // Its mass centre is the box's middle, 9.5 px in: whole-pixel placement puts that at 13.5 or 14.5.
    const box = inkBox(image);
    assert.equal(box.right - box.left + 1, DIGIT_BOX);
    assert.equal(box.bottom - box.top + 1, DIGIT_BOX);
    assert.ok([4, 5].includes(box.left) && [4, 5].includes(box.top), `box at (${box.left}, ${box.top})`);
    assertCentred(image);
    // Uniform ink stays uniform: every pixel of the box is full.
    assert.equal(image.filter((value) => value === 255).length, DIGIT_BOX * DIGIT_BOX);
  });

  test('an off-centre stroke is moved to the centre, keeping its aspect ratio', () => {
    // A vertical bar 20×140 in the top-left corner: 140 tall -> 20, so 20 wide -> round(20/7) = 3.
    const image = centerDigit(canvas(280, 280, [{ x: 5, y: 3, w: 20, h: 140 }]), 280, 280);
    const box = inkBox(image, 0);
    assert.equal(box.bottom - box.top + 1, DIGIT_BOX);
    assert.ok(box.right - box.left + 1 <= 4, `a 1:7 bar must stay narrow, got ${box.right - box.left + 1} columns`);
    assertCentred(image);
  });

  test('a lopsided shape gets its mass centre, not its box centre, at (14, 14)', () => {
    // An "L": a heavy foot to the right makes the mass centre sit right of and below the box centre.
    const image = centerDigit(
      canvas(200, 200, [
        { x: 10, y: 10, w: 20, h: 150 },
        { x: 10, y: 130, w: 120, h: 30 },
      ]),
      200,
      200,
    );
    assertCentred(image);
    const box = inkBox(image);
    const boxCenterX = (box.left + box.right) / 2;
    assert.ok(boxCenterX > MASS_CENTER, `the box (centre x ${boxCenterX}) must lie right of the mass centre's column`);
  });

  test('reads the red channel of RGBA ImageData', () => {
    const gray = canvas(50, 40, [{ x: 30, y: 2, w: 8, h: 30, value: 200 }]);
    const rgba = new Uint8ClampedArray(gray.length * 4);
    gray.forEach((value, i) => {
      rgba[4 * i] = value;
      rgba[4 * i + 1] = value;
      rgba[4 * i + 2] = value;
      rgba[4 * i + 3] = 255;
    });
    assert.deepEqual(centerDigit(rgba, 50, 40, 4), centerDigit(gray, 50, 40));
    assertCentred(centerDigit(gray, 50, 40));
  });

  test('a tiny dot becomes a full-intensity centred blob', () => {
    const image = centerDigit(canvas(280, 280, [{ x: 200, y: 17, w: 3, h: 3, value: 40 }]), 280, 280);
    assert.equal(Math.max(...image), 255);
    assertCentred(image);
  });

  test('real MNIST digits drawn 10× larger off-centre come back close to themselves', async () => {
    const { test: images } = await loadMnist();
    let worst = 1;
    for (let k = 0; k < 50; k++) {
      const original = images.pixels.subarray(k * 784, (k + 1) * 784);
      // Drawn at 10× on a 400×400 canvas, pushed to the top-left, as a hurried user would.
      const width = 400;
      const drawn = new Uint8ClampedArray(width * width);
      for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++) drawn[(y + 7) * width + x + 11] = original[Math.floor(y / 10) * 28 + Math.floor(x / 10)]!;
      const image = centerDigit(drawn, width, width);
      assertCentred(image);
      worst = Math.min(worst, correlation(image, original));
    }
    // MNIST's digits already are "fit in 20×20, mass-centred", so re-preparing one must give it
    // back (measured: above 0.9999); a digit shifted by one pixel correlates 0.33-0.88 with itself.
    assert.ok(worst > 0.99, `a re-prepared MNIST digit correlates only ${worst.toFixed(3)} with the original`);
  });
});

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let meanA = 0,
    meanB = 0;
  for (let i = 0; i < a.length; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= a.length;
  meanB /= b.length;
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - meanA,
      db = b[i]! - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return ab / Math.sqrt(aa * bb);
}
