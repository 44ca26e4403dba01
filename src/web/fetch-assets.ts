/**
 * @file The page's side of loading: the kernel modules' bytes and MNIST fetched from the page's
 * own origin (the static folder `npm run build:web` writes), MNIST's gzipped IDX files
 * decompressed with the browser's DecompressionStream, then parsed and split by src/data as in
 * Node. Nothing comes from anywhere else.
 */
import type { KernelModules } from '../core/backend.js';
import { KERNEL_MODULE_FILES } from '../core/wasm/kernel-module.js';
import { DataError, parseIdx } from '../data/idx.js';
import { MNIST_FILE_NAMES, type MnistData, splitMnist } from '../data/mnist.js';

/** What build-web writes beside the page: bnlab's version and where MNIST came from. */
export interface BuildInfo {
  bnlab: string;
  data: string;
}

export async function fetchBuildInfo(base: URL): Promise<BuildInfo> {
  const response = await fetch(new URL('build-info.json', base));
  if (!response.ok) throw new Error(`build-info.json could not be fetched (HTTP ${response.status}): rebuild the page with npm run build:web`);
  return (await response.json()) as BuildInfo;
}

/** Both kernel builds; a build the server does not have is null (createKernels then falls back). */
export async function fetchKernelModules(base: URL): Promise<KernelModules> {
  const [relaxedSimd, simd128] = await Promise.all([
    fetchBytesOrNull(new URL(`wasm/${KERNEL_MODULE_FILES.relaxedSimd}`, base)),
    fetchBytesOrNull(new URL(`wasm/${KERNEL_MODULE_FILES.simd128}`, base)),
  ]);
  return { relaxedSimd, simd128 };
}

/** MNIST from mnist/*.gz beside the page: 55,000 train / 5,000 validation / 10,000 test. */
export async function fetchMnist(base: URL, source: string): Promise<MnistData> {
  const names = [MNIST_FILE_NAMES.trainImages, MNIST_FILE_NAMES.trainLabels, MNIST_FILE_NAMES.testImages, MNIST_FILE_NAMES.testLabels];
  const ranks = [3, 1, 3, 1];
  const tensors = await Promise.all(names.map(async (name, i) => parseIdx(await fetchGunzipped(new URL(`mnist/${name}.gz`, base)), name, ranks[i])));
  return splitMnist(tensors[0]!, tensors[1]!, tensors[2]!, tensors[3]!, source);
}

async function fetchGunzipped(url: URL): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body)
    throw new DataError(`${url.pathname} could not be fetched (HTTP ${response.status}): rebuild the page with npm run build:web`);
  const stream = response.body.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function fetchBytesOrNull(url: URL): Promise<Uint8Array<ArrayBuffer> | null> {
  const response = await fetch(url);
  return response.ok ? new Uint8Array(await response.arrayBuffer()) : null;
}
