// "Did you mean …?" for a misspelled command, subcommand or flag: the closest valid name by
// edit distance (Damerau: a swap of two neighbours counts as one edit, the commonest typo).

/** Optimal-string-alignment distance between a and b; O(|a|·|b|), inputs are short names. */
export function editDistance(a: string, b: string): number {
  // Rows i-2, i-1 and i of the DP table; d[i][j] = distance between a[0..i) and b[0..j).
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a typo of it:
 * at most a third of the word's length in edits (at least 1), or a unique candidate that starts
 * with it (`--ver` for `--verify`). Ties go to the earlier candidate (callers list common first).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  // Untrusted input (a pasted blob as a flag name) must not cost |word|·|candidate| per candidate.
  if (word.length === 0 || word.length > 64) return undefined;
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(w.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  if (best !== undefined) return best;
  const prefixed = candidates.filter((c) => c.toLowerCase().startsWith(w));
  return w.length >= 2 && prefixed.length === 1 ? prefixed[0] : undefined;
}

/** " (did you mean 'x'?)", or "" when nothing is close. */
export function didYouMean(
  word: string,
  candidates: readonly string[],
  show: (c: string) => string = (c) => `'${c}'`,
): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : ` (did you mean ${show(c)}?)`;
}
