// Typed user metadata (docs/FORMAT.md "Typed metadata"). A save's metadata values are strings,
// numbers or booleans; the manifest's metadata map holds strings only, as it always has
// (`user.<key>` = the value as text), so older readers see every value as a string. Beside it
// one more entry, `ckptkit.types`, records the type of each value that is not a string, as
// JSON: {"loss":"number","best":"boolean"}. A reader applies a type only when the text is
// exactly what the writer makes of such a value ("0.25", "-0", "true"); anything else (an entry
// changed by hand, a crafted store) stays a string: decoding never throws.
import type { Metadata } from "./metadata.ts";

export type MetaValue = string | number | boolean;
/** A save's metadata: string, number (finite) or boolean values, returned with their type. */
export type UserMeta = Record<string, MetaValue>;

export const TYPES_KEY = "ckptkit.types";

/** The text a value is stored as (-0 keeps its sign; every finite number round-trips). */
export function metaText(v: MetaValue): string {
  return typeof v === "number" && Object.is(v, -0) ? "-0" : String(v);
}

/** The JSON of the types of the non-string values, or undefined if every value is a string. */
export function encodeTypes(meta: UserMeta): string | undefined {
  const types: Record<string, "number" | "boolean"> = {};
  let any = false;
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === "number" || typeof v === "boolean") {
      types[k] = typeof v as "number" | "boolean";
      any = true;
    }
  }
  return any ? JSON.stringify(types) : undefined;
}

/** The values of `strings` with the types recorded in `typesJson` applied where they fit. */
export function applyTypes(strings: Metadata, typesJson: string | undefined): UserMeta {
  const out: UserMeta = { ...strings };
  if (typesJson === undefined) return out;
  let types: unknown;
  try {
    types = JSON.parse(typesJson);
  } catch {
    return out;
  }
  if (typeof types !== "object" || types === null || Array.isArray(types)) return out;
  for (const [k, t] of Object.entries(types as Record<string, unknown>)) {
    if (!Object.hasOwn(strings, k)) continue;
    const s = strings[k]!;
    if (t === "boolean" && (s === "true" || s === "false")) out[k] = s === "true";
    else if (t === "number") {
      const n = Number(s);
      if (Number.isFinite(n) && metaText(n) === s) out[k] = n;
    }
  }
  return out;
}

/** A value as a number for ordering (best-N retention): numbers, and strings that are numbers. */
export function numericValue(v: MetaValue | undefined): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
