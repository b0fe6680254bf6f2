// Which chunk type a container of each kind holds (docs/FORMAT.md): a member's chunks carry data,
// a manifest's the member table, or, in a version 2 manifest, the member table followed by the
// inline members' payloads. The kernel checks a chunk header's CRC, magic and index, not its
// type: the reader holds the type to this, so a well-formed chunk of the wrong type is damage
// (`bad-chunk`) rather than bytes delivered as something they are not. (That every chunk of one
// manifest has the same type is held by the table collector: src/format/table-reader.ts.)
import { CHUNK_DATA, CHUNK_MEMBER_TABLE, CHUNK_TABLE_INLINE, KIND_MANIFEST, KIND_MEMBER } from "./constants.ts";

const NAMES: Record<number, string> = {
  [CHUNK_DATA]: "data",
  [CHUNK_MEMBER_TABLE]: "member table",
  [CHUNK_TABLE_INLINE]: "member table + inline payloads",
};

/**
 * The chunk type a container of `kind` and `version` must hold, given the type `got` that was
 * read (a version 2 manifest may hold either table form), or undefined for a kind with no rule.
 */
export function chunkTypeFor(kind: number, version = 1, got?: number): number | undefined {
  if (kind === KIND_MEMBER) return CHUNK_DATA;
  if (kind !== KIND_MANIFEST) return undefined;
  return version >= 2 && got === CHUNK_TABLE_INLINE ? CHUNK_TABLE_INLINE : CHUNK_MEMBER_TABLE;
}

/** The damage message of a chunk of the wrong type. */
export function wrongChunkType(got: number, want: number): string {
  return `chunk type ${got} (${NAMES[got] ?? "unknown"}), but this container holds type ${want} (${NAMES[want]})`;
}
