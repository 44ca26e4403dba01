#!/usr/bin/env node
/**
 * @file Builds the WebAssembly SIMD kernels (assembly/*.ts, AssemblyScript) into build/, in two
 * variants: `relaxed-simd` (f32x4.relaxed_madd, a fused multiply-add where the CPU has one) and
 * `simd128` (plain SIMD, for engines without relaxed SIMD). The loader picks the first that
 * `WebAssembly.validate` accepts. Each file is written atomically (temp file, then rename).
 *
 * Usage: node scripts/build-wasm.mjs [--wat]   (--wat also writes the text format, for reading)
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = new URL('../', import.meta.url);
const buildDirectory = new URL('build/', root);
const entry = fileURLToPath(new URL('assembly/index.ts', root));

/** The variants, by the name the TypeScript loader knows them by (src/node/wasm-files.ts). */
const VARIANTS = [
  { file: 'bnlab-kernels.relaxed-simd.wasm', features: ['simd', 'relaxed-simd'] },
  { file: 'bnlab-kernels.simd128.wasm', features: ['simd'] },
];

const COMMON_OPTIONS = [
  '--runtime',
  'stub', // the kernels never allocate: the host owns memory
  '--importMemory',
  '--noExportMemory', // the host creates, sizes and grows env.memory
  '--initialMemory',
  '1',
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--noAssert',
  '--use',
  'abort=', // no env.abort import: nothing in the kernels can abort
];

async function writeAtomically(url, contents) {
  const path = fileURLToPath(url);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

async function buildVariant({ file, features }, withText) {
  const outputs = new Map();
  const args = [entry, '--outFile', file, ...COMMON_OPTIONS, ...features.flatMap((feature) => ['--enable', feature])];
  if (withText) args.push('--textFile', file.replace(/\.wasm$/, '.wat'));
  let diagnostics = '';
  const { error } = await asc.main(args, {
    stdout: {
      write: (text) => {
        diagnostics += text;
      },
    },
    stderr: {
      write: (text) => {
        diagnostics += text;
      },
    },
    writeFile: (name, contents) => {
      outputs.set(name, contents);
    },
  });
  if (error) throw new Error(`building ${file} failed: ${error.message}\n${diagnostics}`);
  if (diagnostics.trim()) process.stderr.write(diagnostics); // warnings
  for (const [name, contents] of outputs) await writeAtomically(new URL(name, buildDirectory), contents);
  const bytes = outputs.get(file);
  return bytes ? bytes.length : 0;
}

const withText = process.argv.includes('--wat');
await mkdir(buildDirectory, { recursive: true });
for (const variant of VARIANTS) {
  const size = await buildVariant(variant, withText);
  console.log(`build/${variant.file}: ${size} bytes`);
}
