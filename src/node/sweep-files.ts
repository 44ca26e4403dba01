/**
 * @file Reading a sweep spec from a file: JSON (`.json`) or YAML (`.yaml`, `.yml`; YAML is a
 * superset of JSON, so any other name is read as YAML), bounded in size, every error one line
 * that names the file and the offending key or line. The article's grid is one such file,
 * shipped with bnlab (`sweeps/article.yaml`).
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseSweepSpec, type SweepSpec, SweepSpecError } from '../lab/sweep/sweep-spec.js';

/** A spec larger than this is not a hand-written sweep: 1 MiB holds 100,000 runs' worth of axes. */
const MAX_SPEC_BYTES = 1024 * 1024;

/** A sweep spec file that cannot be used (exit code 2); the message names the file. */
export class SweepFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepFileError';
  }
}

/** The article's grid as shipped with bnlab (found relative to this file, from any working directory). */
export function articleSpecPath(): string {
  return fileURLToPath(new URL('../../../sweeps/article.yaml', import.meta.url));
}

/** Parses the text of a spec file; `path` names it in errors. */
export function sweepSpecFromText(text: string, path: string): SweepSpec {
  let document: unknown;
  if (path.endsWith('.json')) {
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new SweepFileError(`${path} is not valid JSON (${(error as Error).message}): fix it, or write the spec in YAML`);
    }
  } else {
    try {
      document = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
    } catch (error) {
      if (!(error instanceof YAMLParseError)) throw error;
      const where = error.linePos?.[0] ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      throw new SweepFileError(`${path} is not valid YAML${where}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
  }
  try {
    return parseSweepSpec(document);
  } catch (error) {
    if (error instanceof SweepSpecError) throw new SweepFileError(`sweep spec ${path}: ${error.message}`);
    throw error;
  }
}

/** Reads and checks the spec at `path`. */
export async function readSweepSpec(path: string): Promise<SweepSpec> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new SweepFileError(
      error.code === 'ENOENT'
        ? `sweep spec ${path} does not exist: give the path of a .yaml or .json spec (see docs/sweeps.md)`
        : `sweep spec ${path} cannot be read (${error.message})`,
    );
  });
  if (!info.isFile()) throw new SweepFileError(`sweep spec ${path} is not a file: give the path of a .yaml or .json spec`);
  if (info.size > MAX_SPEC_BYTES)
    throw new SweepFileError(
      `sweep spec ${path} is ${info.size.toLocaleString('en-US')} bytes; a spec may be at most ${MAX_SPEC_BYTES.toLocaleString('en-US')} bytes`,
    );
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new SweepFileError(`sweep spec ${path} cannot be read (${error.message})`);
  });
  return sweepSpecFromText(text, path);
}
