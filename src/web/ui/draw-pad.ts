/**
 * @file A 280×280 canvas to draw a digit on with a mouse, a pen or a finger (pointer events):
 * a thick white stroke on black, like MNIST's white-on-black digits, turned into the 784 bytes
 * the networks read by src/data/center-digit.ts.
 */
import { centerDigit } from '../../data/center-digit.js';
import { el } from './dom.js';

const PAD_SIDE = 280;
/** 20 px on 280 is 2 px after scaling a digit of full height to MNIST's 20: MNIST's stroke width. */
const STROKE_WIDTH = 20;

export class DrawPad {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | null = null;
  private inked = false;

  /** `onStroke` runs when a stroke ends (the digit may be complete). */
  constructor(onStroke: () => void) {
    this.canvas = el('canvas', {
      width: PAD_SIDE,
      height: PAD_SIDE,
      class: 'draw-pad',
      id: 'draw-pad',
      'aria-label': 'Draw a digit here with the mouse or a finger',
    });
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    this.canvas.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      this.canvas.setPointerCapture(event.pointerId);
      this.last = this.point(event);
      this.strokeTo(this.last);
    });
    this.canvas.addEventListener('pointermove', (event) => {
      if (!this.last) return;
      const point = this.point(event);
      this.strokeTo(point);
      this.last = point;
    });
    const end = (): void => {
      if (!this.last) return;
      this.last = null;
      onStroke();
    };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.ctx.fillStyle = 'black';
    this.ctx.fillRect(0, 0, PAD_SIDE, PAD_SIDE);
    this.inked = false;
  }

  get hasInk(): boolean {
    return this.inked;
  }

  /** The drawing scaled and centred as MNIST's digits are: 784 bytes, 0 = background. */
  pixels(): Uint8Array {
    return centerDigit(this.ctx.getImageData(0, 0, PAD_SIDE, PAD_SIDE).data, PAD_SIDE, PAD_SIDE, 4);
  }

  /** The pointer's position in canvas pixels (the canvas may be drawn smaller than 280 CSS px). */
  private point(event: PointerEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) / box.width) * PAD_SIDE, y: ((event.clientY - box.top) / box.height) * PAD_SIDE };
  }

  private strokeTo(point: { x: number; y: number }): void {
    const from = this.last ?? point;
    const { ctx } = this;
    ctx.strokeStyle = 'white';
    ctx.lineWidth = STROKE_WIDTH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(point.x, point.y);
    ctx.stroke();
    this.inked = true;
  }
}

/** Draws 784 bytes as a 28×28 gray image on `canvas` (white ink on black). */
export function drawDigit(canvas: HTMLCanvasElement, pixels: Uint8Array): void {
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const value = pixels[i] ?? 0;
    image.data.set([value, value, value, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}
