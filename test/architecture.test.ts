/**
 * @file The architecture rules: src/core, src/nn, src/train and src/data run in a browser and in
 * worker threads, so none of their .ts files may import a Node builtin ('node:*' or a bare name
 * such as 'fs', 'path', 'worker_threads'). Node-only edge files (*-node.ts, anything under
 * src/node) are exempt; lab/ and the page (web/) are browser code too. And arrows point down: core
 * imports no other layer, nn only core (never data/: MLP.evaluate takes an ExampleSource), and
 * neither the engine, lab/ nor the page imports an edge (cli/, node/); of the edges, node/ imports
 * no command (cli/) and neither imports the page (web/, which reaches Node only over HTTP). Every
 * folder of src/ has its rule (a new one fails until it gets one). A failure names each file and import.
 */

import assert from 'node:assert/strict';
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/architecture.test.js -> the repository root
const root = fileURLToPath(new URL('../../', import.meta.url));
const portableDirectories = ['src/core', 'src/nn', 'src/train', 'src/data', 'src/lab', 'src/web'];
const builtins = new Set(builtinModules);

/** Every module specifier a TypeScript source imports or re-exports, statically or dynamically. */
export function importSpecifiers(source: string): string[] {
  // Drop comments, so prose about 'fs' is not an import; `//` after a ':' (a URL in a string) stays.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"])\/\/.*$/gm, '$1');
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from '…'; export { x } from '…'
    /\bimport\s*['"]([^'"]+)['"]/g, // import '…' (side effects only)
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // require('…')
  ];
  return patterns.flatMap((pattern) => Array.from(code.matchAll(pattern), (match) => match[1]!));
}

/** Whether a specifier names a Node builtin: 'node:…', or a bare builtin name or subpath ('fs', 'fs/promises'). */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0]!);
}

function portableSourceFiles(directory: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return []; // a layer not written yet has nothing to break
  }
  return entries.flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node' ? [] : portableSourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('-node.ts') ? [path] : [];
  });
}

/** Every .ts file under `directory`, edge files included. */
function allSourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return allSourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The layers (src/ folders) the relative imports of `files` reach, other than `allowed`, as "file imports from src/x". */
function importsOutside(files: readonly string[], allowed: readonly string[]): string[] {
  return files.flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => relative(join(root, 'src'), join(file, '..', specifier)).split(sep)[0]!)
      .filter((target) => !allowed.includes(target))
      .map((target) => `${relative(root, file)} imports from src/${target}`),
  );
}

const ENGINE = ['core', 'nn', 'data', 'train'];
/** What each folder of src/ may import, lowest first; the arrows only point down. */
const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  core: ['core'],
  nn: ['core', 'nn'],
  data: ['core', 'data'],
  train: ENGINE,
  lab: [...ENGINE, 'lab'],
  web: [...ENGINE, 'lab', 'web'],
  node: [...ENGINE, 'lab', 'node'],
  cli: [...ENGINE, 'lab', 'node', 'cli'],
};

describe('architecture', () => {
  test('the import scanner finds every form of import and only builtins are flagged', () => {
    const source = [
      "import { readFile } from 'node:fs/promises';",
      "import path from 'path';",
      "import type { Worker } from 'worker_threads';",
      'export { join } from "node:path";',
      "import 'fs';",
      "const os = await import('os');",
      "const zlib = require('zlib');",
      "import {\n  Matrix,\n} from '../core/matrix.js';",
      "// import fs from 'fs' is prose in a comment",
      "/* import { x } from 'node:crypto' */",
      "const url = 'https://example.org'; // a URL is not a comment",
    ].join('\n');
    const found = importSpecifiers(source);
    assert.deepEqual(found.sort(), ['../core/matrix.js', 'fs', 'node:fs/promises', 'node:path', 'os', 'path', 'worker_threads', 'zlib'].sort());
    assert.deepEqual(found.filter(isNodeBuiltin).sort(), ['fs', 'node:fs/promises', 'node:path', 'os', 'path', 'worker_threads', 'zlib'].sort());
    assert.ok(!isNodeBuiltin('@tensorflow/tfjs') && !isNodeBuiltin('./fs.js') && !isNodeBuiltin('commander'));
  });

  test('src/core, src/nn, src/train, src/data, src/lab and src/web import no Node builtin', () => {
    const files = portableDirectories.flatMap((directory) => portableSourceFiles(join(root, directory)));
    assert.ok(
      files.some((file) => file.endsWith(`core${sep}rng.ts`)),
      `no sources found under ${root}src: is the test running from dist/test/?`,
    );
    const violations = files.flatMap((file) =>
      importSpecifiers(readFileSync(file, 'utf8'))
        .filter(isNodeBuiltin)
        .map((specifier) => `${relative(root, file)} imports '${specifier}'`),
    );
    assert.deepEqual(
      violations,
      [],
      `these files must run in a browser and worker threads; move Node access to src/node/ or a *-node.ts file:\n${violations.join('\n')}`,
    );
  });

  test('arrows point down: core imports no other layer, nn only core, and no engine layer or the page imports an edge', () => {
    const violations = Object.entries(ALLOWED_IMPORTS)
      .filter(([layer]) => !['node', 'cli'].includes(layer))
      .flatMap(([layer, layers]) => importsOutside(portableSourceFiles(join(root, 'src', layer)), layers));
    assert.ok(portableSourceFiles(join(root, 'src', 'nn')).length > 0, 'no sources found under src/nn');
    assert.deepEqual(violations, [], `an arrow points up or sideways:\n${violations.join('\n')}`);
  });

  test('every folder of src/ has a rule, and the edges point down too: node/ imports no command, neither edge imports the page', () => {
    const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    assert.deepEqual(
      folders.filter((folder) => !(folder in ALLOWED_IMPORTS)),
      [],
      'a folder of src/ without a rule in ALLOWED_IMPORTS',
    );
    const violations = ['node', 'cli'].flatMap((layer) => importsOutside(allSourceFiles(join(root, 'src', layer)), ALLOWED_IMPORTS[layer]!));
    assert.ok(allSourceFiles(join(root, 'src', 'cli')).length > 10, 'no sources found under src/cli');
    assert.deepEqual(violations, [], `an arrow points up or sideways:\n${violations.join('\n')}`);
  });
});
