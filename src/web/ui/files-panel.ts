/**
 * @file Files in and out: download either network as a `.safetensors` checkpoint (the CLI's
 * format), load one by drag-and-drop anywhere on the page or with a file picker, and export the
 * run as JSON in the schema of `bnlab compare`'s compare.json.
 */
import { el } from './dom.js';
import { createFigure, type Figure } from './figure.js';
import { DEFAULT_NORMS, type NormPair, networkLabel, networkSlug } from './network-style.js';

export interface FilesHandlers {
  /** The left (0) or the right (1) network. */
  download(network: number): Promise<void>;
  load(file: File): Promise<void>;
  exportRun(): void;
}

export class FilesPanel {
  readonly figure: Figure;
  readonly fileInput: HTMLInputElement;
  private readonly exportButton: HTMLButtonElement;
  private readonly downloads: HTMLElement;
  private norms: NormPair | null = null;

  constructor(private readonly handlers: FilesHandlers) {
    this.figure = createFigure({
      id: 'files',
      title: 'Files',
      note:
        'A downloaded network is a bnlab checkpoint: bnlab eval reads it and reports the same accuracy. ' +
        'A checkpoint from bnlab train --save loads into the network with its norm (without BN, with BN, with LN…) if its layers and activation match the settings; ' +
        'drop it anywhere on the page. The JSON is the record bnlab compare writes.',
      claim: null,
    });
    this.downloads = el('div', { class: 'button-row' });
    this.setNorms(DEFAULT_NORMS);
    this.fileInput = el('input', { type: 'file', id: 'load-network', accept: '.safetensors,application/octet-stream' });
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files?.[0];
      this.fileInput.value = ''; // the same file can be chosen again
      if (file) void handlers.load(file);
    });
    this.exportButton = el('button', { type: 'button', id: 'export-json', disabled: true }, 'Export run as JSON (compare.json)');
    this.exportButton.addEventListener('click', () => handlers.exportRun());
    this.figure.body.append(
      this.downloads,
      el('p', { class: 'file-row' }, el('label', { for: 'load-network' }, 'Load a network (.safetensors): '), this.fileInput),
      el('div', { class: 'button-row' }, this.exportButton),
    );

    // Drag-and-drop anywhere on the page; the browser would otherwise open the file.
    document.addEventListener('dragover', (event) => {
      event.preventDefault();
      document.body.classList.add('dragging');
    });
    document.addEventListener('dragleave', (event) => {
      if (event.relatedTarget === null) document.body.classList.remove('dragging');
    });
    document.addEventListener('drop', (event) => {
      event.preventDefault();
      document.body.classList.remove('dragging');
      const file = event.dataTransfer?.files[0];
      if (file) void handlers.load(file);
    });
  }

  /** One download button per network: #download-without-bn, #download-with-bn, #download-with-ln… */
  setNorms(norms: NormPair): void {
    if (this.norms && norms[0] === this.norms[0] && norms[1] === this.norms[1]) return;
    this.norms = norms;
    this.downloads.replaceChildren(
      ...norms.map((norm, i) => {
        const button = el('button', { type: 'button', id: `download-${networkSlug(norm)}` }, `Download network ${networkLabel(norm)}`);
        button.addEventListener('click', () => void this.handlers.download(i));
        return button;
      }),
    );
  }

  /** The export needs both runs finished. */
  setExportable(ready: boolean): void {
    this.exportButton.disabled = !ready;
    this.exportButton.title = ready ? '' : 'available once both networks have finished their run';
  }
}
