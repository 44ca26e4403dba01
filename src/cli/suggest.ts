/**
 * @file What `bnlab WORD` says when WORD is not a command: the nearest command by edit distance
 * (a typo such as `trian`), or, for an option given before any command, which commands take options.
 */

/** One line for a word the program does not know, naming the nearest of `commands` when one is close. */
export function unknownWordMessage(word: string, commands: readonly string[]): string {
  if (word.startsWith('-')) return `unknown option '${word}': options go after a command (bnlab ${commands[0]} ${word} …); bnlab --help lists the commands`;
  const nearest = nearestWord(word, commands);
  const hint = nearest === null ? '' : ` (did you mean ${nearest}?)`;
  return `unknown command '${word}'${hint}; the commands are ${commands.join(', ')}`;
}

/** The candidate within edit distance 2 of `word` (at most a third of its length), the closest first; null if none. */
export function nearestWord(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.min(2, Math.ceil(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1,
    cols = b.length + 1;
  const d = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[rows - 1]![cols - 1]!;
}
