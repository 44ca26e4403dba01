/**
 * @file The page's two message regions: the alert (role="alert") that shows what a worker
 * refused or what failed, in the worker's own sentence, and the notices (role="status") that
 * say what the link asked for that was ignored, or which kernels run.
 */
import { el } from './dom.js';

export class AlertRegion {
  readonly element: HTMLElement;
  private readonly text: HTMLElement;

  constructor() {
    this.text = el('p', { class: 'alert-text', 'data-field': 'alert' });
    const dismiss = el('button', { type: 'button', class: 'small' }, 'Dismiss');
    dismiss.addEventListener('click', () => this.clear());
    this.element = el('div', { id: 'alert', class: 'alert', role: 'alert', hidden: true }, this.text, dismiss);
  }

  show(error: unknown): void {
    this.text.textContent = error instanceof Error ? error.message : String(error);
    this.element.hidden = false;
  }

  clear(): void {
    this.text.textContent = '';
    this.element.hidden = true;
  }

  get message(): string {
    return this.text.textContent ?? '';
  }
}

export class NoticeList {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;

  constructor() {
    this.list = el('ul', {});
    this.element = el('div', { id: 'notices', class: 'notices', role: 'status', hidden: true }, this.list);
  }

  /** Replaces the notices with key `key` (one source of notices does not wipe another's). */
  set(key: string, notices: readonly string[]): void {
    for (const item of Array.from(this.list.querySelectorAll(`[data-key="${key}"]`))) item.remove();
    for (const notice of notices) this.list.append(el('li', { 'data-key': key }, notice));
    this.element.hidden = this.list.childElementCount === 0;
  }
}
