/**
 * @file Turning flag strings into values, with messages that name the flag and the bad value.
 * Range checks live in train/config.ts; here only the syntax is checked.
 */
import { UsageError } from './errors.js';

export function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} must be a number, got "${text}"`);
  return value;
}

export function parseInteger(flag: string, text: string): number {
  const value = parseNumber(flag, text);
  if (!Number.isInteger(value)) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
  return value;
}

/** "128,128,128" -> [128, 128, 128]; an empty string means no hidden layer. */
export function parseIntegerList(flag: string, text: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (part.trim() === '' || !Number.isInteger(value) || value < 1) {
      throw new UsageError(`${flag} must be a comma-separated list of whole numbers of at least 1 such as 128,128,128, got "${text}"`);
    }
    return value;
  });
}

export function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${text}"`);
  return text as T;
}
