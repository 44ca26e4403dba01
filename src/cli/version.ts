/**
 * @file `bnlab --version`: the version and which kernel backend `auto` picks on this machine.
 */
import { loadKernels } from '../node/wasm-files.js';
import { bnlabVersion } from '../node/package-info.js';

export async function versionLine(): Promise<string> {
  const kernels = await loadKernels('auto');
  return `bnlab ${bnlabVersion()} (backend: ${kernels.variant}; node ${process.version})`;
}
