// npm's `prepare`: `npm run build`, unless the build is already newer than everything it is made from.
// npm runs `prepare` after `npm ci`, and again when `npx bnlab` first runs in a checkout: npx links the
// checkout into its own cache as a dependency and prepares it, which rebuilt everything (35 s on a
// 2-core machine) right after `npm ci` had. `npm run build` (and `npm test`) always build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What the build reads: the sources of every step, the config and the locked tool versions. */
const INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'assembly', 'native', 'src', 'web', 'bench', 'test', 'scripts'];
/** One output of each build step. */
export const OUTPUTS = [
  'build/bnlab-kernels.relaxed-simd.wasm',
  'build/bnlab-kernels.simd128.wasm',
  'build/bnlab-native.json',
  'dist/src/cli/main.js',
  'dist/web/index.html',
];

/** The latest modification time under `path` (a file, or a directory walked whole), 0 where it is absent. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let latest = stats.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

/** Why the build must run, or null when every output exists and is newer than every input. */
export function staleBecause(dir = root) {
  const missing = OUTPUTS.find((output) => !existsSync(join(dir, output)));
  if (missing) return `${missing} is missing`;
  const native = JSON.parse(readFileSync(join(dir, 'build/bnlab-native.json'), 'utf8'));
  if (!native.built) return 'the native code was not built last time';
  const oldestOutput = Math.min(...OUTPUTS.map((output) => statSync(join(dir, output)).mtimeMs));
  const changed = INPUTS.find((input) => newest(join(dir, input)) > oldestOutput);
  return changed ? `${changed} changed since the last build` : null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const reason = staleBecause();
  if (reason === null) {
    console.log('bnlab: the build is newer than its sources; not building again (npm run build forces it)');
  } else {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    process.exitCode = build.status ?? 1;
  }
}
