/**
 * @file `bnlab --version`: the version and which kernel backend `auto` picks on this machine.
 */

import { bnlabVersion } from '../node/package-info.js';
import { loadKernels } from '../node/wasm-files.js';

export async function versionLine(): Promise<string> {
  const kernels = await loadKernels('auto');
  return `bnlab ${bnlabVersion()} (backend: ${kernels.variant}; node ${process.version})`;
}
