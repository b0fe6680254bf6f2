// Collects a manifest's member table while scanContainer reads the file: the table is the
// concatenation of the manifest's N ≥ 1 chunks, all of type member-table, or (version 2) all of
// type table+inline: the table followed by the inline members' payloads (docs/FORMAT.md). One
// copy, used by the store's readManifest and by `verify FILE` / `inspect`.
//
// The buffer is allocated in onHeader, i.e. only after the kernel has checked the header against
// the real file size, so its length (the payload length) is bounded by bytes that exist; and only
// for a container of kind manifest, so a member file under a manifest's name allocates nothing.
import {
  CHUNK_HEADER_SIZE,
  CHUNK_MEMBER_TABLE,
  CHUNK_TABLE_INLINE,
  HEADER_SIZE,
  KIND_MANIFEST,
  META_CRC_SIZE,
} from "./constants.ts";
import type { ChunkInfo, ContainerHeader } from "./reader.ts";

export class MemberTableCollector {
  /** The whole table once every chunk was seen (undefined for a file that is not a manifest). */
  table: Uint8Array | undefined;
  /** Some chunk was of neither table type, or not of the first chunk's: not a manifest this reader understands. */
  wrongType = false;
  /** The chunks are the table+inline form (decode with decodeMemberTable's `inlineIn`). */
  inline = false;
  private filled = 0;
  private header: ContainerHeader | undefined;

  readonly onHeader = (h: ContainerHeader): string | undefined => {
    this.header = h;
    if (h.kind !== KIND_MANIFEST || h.chunkCount < 1) return undefined;
    try {
      this.table = new Uint8Array(h.payloadLength);
    } catch {
      return `member table of ${h.payloadLength} bytes is more than this runtime can allocate`;
    }
    return undefined;
  };

  readonly onChunk = (payload: Uint8Array, info: ChunkInfo): void => {
    if (info.index === 0) this.inline = info.type === CHUNK_TABLE_INLINE;
    // The reader held table+inline chunks to version 2 headers (chunk-type.ts); one form per manifest.
    if (info.type !== (this.inline ? CHUNK_TABLE_INLINE : CHUNK_MEMBER_TABLE)) this.wrongType = true;
    // Chunk lengths come from the checked header and sum to its payload length: this fits.
    this.table?.set(payload, this.filled);
    this.filled += payload.length;
  };

  /** File offset of table byte t (for messages): it lies in chunk t / chunkSize, after that chunk's header. */
  readonly fileOffset = (t: number): number => {
    const h = this.header;
    if (!h) return 0;
    const first = HEADER_SIZE + h.metaLength + META_CRC_SIZE;
    return first + Math.floor(t / h.chunkSize) * (CHUNK_HEADER_SIZE + h.chunkSize) + CHUNK_HEADER_SIZE +
      (t % h.chunkSize);
  };
}
