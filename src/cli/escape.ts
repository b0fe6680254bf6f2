// The one escaping function for human output. Names, metadata and messages that come from a
// store are untrusted (guarantee 7): printed raw, "\x1b]0;…" retitles the terminal, "\x1b[2J"
// clears it, "\r" overwrites a line with something else. Invariant: what this returns holds no
// C0 or C1 control character, no DEL and no invisible bidi/line-separator format character;
// printable Unicode (accents, CJK, emoji) passes unchanged. --json output does not use it:
// JSON.stringify already escapes control characters and the document must stay exact.

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

// C0, DEL, C1; U+2028/2029 (line/paragraph separators); bidi embeddings, overrides and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every control character replaced by a visible escape (`\x1b`, `\n`, `\u202e`). */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** escapeText over a list, joined for one line of output. */
export function escapeList(items: readonly string[], sep = ", "): string {
  return items.map(escapeText).join(sep);
}
