// The member-name invariant (CONTRACT guarantee 7, docs/FORMAT.md "Member names"): a name is a
// relative path that restore can join under an output directory without ever leaving it.
//   - segments separated by "/", each 1–255 UTF-8 bytes, none "." or "..";
//   - at most 1,024 UTF-8 bytes in all;
//   - no "\", no NUL, no control character (C0, DEL, C1), no lone UTF-16 surrogate;
//   - within one checkpoint: unique, and no name is a directory prefix of another ("a" and
//     "a/b" cannot both be restored: one would have to be a file and a directory).
// This is the ONE check: save refuses a bad name with a UsageError before writing a byte, and
// every read path (manifest decode, verify, latest, list, restore, load, inspect) treats a
// manifest that records one as corrupt (finding `bad-name`). A store may be untrusted: the
// name in a manifest is data, never a path, until it has passed here.
import { UsageError } from "../errors.ts";

export const MAX_NAME_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

const enc = new TextEncoder();
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\\\x00-\x1f\x7f-\x9f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `name` is not a valid member name, or undefined if it is. */
export function memberNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return `a member name must be a string, got ${typeof name}`;
  if (name.length === 0) return "a member name must not be empty";
  // Cheap bound before encoding: a UTF-16 unit encodes to at least one UTF-8 byte.
  if (name.length > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes`;
  const bytes = enc.encode(name).length;
  if (bytes > MAX_NAME_BYTES) return `${bytes} bytes, over the ${MAX_NAME_BYTES}-byte limit`;
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    return bad[0] === "\\"
      ? `contains '\\'`
      : `contains control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, "0")}`;
  }
  if (LONE_SURROGATE.test(name)) return "contains a lone UTF-16 surrogate (not encodable as UTF-8)";
  if (name.startsWith("/")) return "an absolute path (names are relative)";
  for (const seg of name.split("/")) {
    if (seg.length === 0) return "has an empty path segment ('//' or a trailing '/')";
    if (seg === "." || seg === "..") return `has a '${seg}' segment`;
    const n = enc.encode(seg).length;
    if (n > MAX_SEGMENT_BYTES) return `has a ${n}-byte segment, over the ${MAX_SEGMENT_BYTES}-byte limit`;
  }
  return undefined;
}

/**
 * Why this list of names cannot be one checkpoint's, or undefined. Checks every name, then
 * uniqueness and file/directory clashes. Linear in the total name length.
 */
export function memberNamesProblem(
  names: readonly unknown[],
): { index: number; name: string; problem: string } | undefined {
  for (let i = 0; i < names.length; i++) {
    const problem = memberNameProblem(names[i]);
    if (problem) return { index: i, name: String(names[i]), problem };
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (seen.has(name)) return { index: i, name, problem: `appears twice (members ${seen.get(name)} and ${i})` };
    seen.set(name, i);
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    for (let at = name.indexOf("/"); at >= 0; at = name.indexOf("/", at + 1)) {
      const dir = name.slice(0, at);
      if (seen.has(dir)) {
        return { index: i, name, problem: `is inside '${dir}', which is also a member (a file cannot be a directory)` };
      }
    }
  }
  return undefined;
}

/** For callers (save): the name, or a UsageError saying what is wrong with it. */
export function checkMemberName(name: string): string {
  const problem = memberNameProblem(name);
  if (problem) throw new UsageError(`invalid member name ${JSON.stringify(name)}: ${problem}`);
  return name;
}

/** For callers (save): throws a UsageError if these names cannot be one checkpoint's. */
export function checkMemberNames(names: readonly string[]): void {
  const p = memberNamesProblem(names);
  if (p) throw new UsageError(`invalid member name ${JSON.stringify(p.name)}: ${p.problem}`);
}
