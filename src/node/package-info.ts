/**
 * @file bnlab's own version, read once from its package.json (found relative to this file, so
 * it works from any working directory).
 */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function bnlabVersion(): string {
  if (cached === null) {
    const url = new URL('../../../package.json', import.meta.url);
    cached = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  }
  return cached;
}
