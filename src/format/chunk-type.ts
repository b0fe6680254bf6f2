// Which chunk type a container of each kind holds (docs/FORMAT.md): a member's chunks carry data,
// a manifest's the member table. The kernel checks a chunk header's CRC, magic and index, not its
// type: the reader holds the type to this, so a well-formed chunk of the wrong type is damage
// (`bad-chunk`) rather than bytes delivered as something they are not.
import { CHUNK_DATA, CHUNK_MEMBER_TABLE, KIND_MANIFEST, KIND_MEMBER } from "./constants.ts";

const NAMES: Record<number, string> = { [CHUNK_DATA]: "data", [CHUNK_MEMBER_TABLE]: "member table" };

/** The chunk type a container of `kind` must hold, or undefined for a kind with no rule. */
export function chunkTypeFor(kind: number): number | undefined {
  return kind === KIND_MEMBER ? CHUNK_DATA : kind === KIND_MANIFEST ? CHUNK_MEMBER_TABLE : undefined;
}

/** The damage message of a chunk of the wrong type. */
export function wrongChunkType(got: number, want: number): string {
  return `chunk type ${got} (${NAMES[got] ?? "unknown"}), but this container holds type ${want} (${NAMES[want]})`;
}
