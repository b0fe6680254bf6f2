// Reads just the metadata section of a container (header, metadata, its CRC-32), without
// scanning the chunks: for a value needed before a file's full scan, such as the permission bits
// restore creates a member's file with. The header is checked by the kernel against the real file
// size first, so the metadata length is bounded by the file. Anything malformed is `undefined`:
// the caller's full scan is what reports damage.
import type { FileHandle } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { crc32 } from "../hash.ts";
import { kernel } from "../wasm/kernel.ts";
import { HEADER_SIZE, META_CRC_SIZE, STATUS } from "./constants.ts";
import { decodeMetadata, type Metadata } from "./metadata.ts";

export async function readContainerMetadata(h: FileHandle, path: string): Promise<Metadata | undefined> {
  const head = new Uint8Array(HEADER_SIZE);
  if ((await readFully(h, head, 0)) < HEADER_SIZE) return undefined;
  const k = kernel();
  k.io.set(head);
  if (k.exports.checkHeader(k.ioPtr, await h.size()) !== STATUS.OK) return undefined;
  const metaLength = new DataView(head.buffer).getUint32(20, true); // header: meta length u32 at 20
  const bytes = new Uint8Array(metaLength + META_CRC_SIZE);
  if ((await readFully(h, bytes, HEADER_SIZE)) < bytes.length) return undefined;
  if (crc32(bytes.subarray(0, metaLength)) !== new DataView(bytes.buffer).getUint32(metaLength, true)) return undefined;
  try {
    return decodeMetadata(bytes.subarray(0, metaLength), path, HEADER_SIZE);
  } catch {
    return undefined;
  }
}
