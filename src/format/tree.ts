// The v2 SHA-256 tree (docs/FORMAT.md, "The SHA-256 tree"): what is hashed, in one place.
//   head digest  H      = SHA-256(header ‖ metadata ‖ metadata CRC)           message starts "CKPTKIT\0"
//   leaf i       L_i    = SHA-256(chunk i as stored: chunk header ‖ payload)  message starts "CHNK"
//   root         R      = SHA-256("CKPTROOT" ‖ H ‖ L_0 ‖ … ‖ L_{N−1})
// The three messages start with different bytes, so none can be taken for another (RFC 6962's
// leaf/node prefixes do the same with 0x00/0x01); a leaf's chunk header carries the chunk's
// index, length and CRC (BLAKE3's chunk counter), so a leaf cannot move or change size.
import { sha256, sha256Concat } from "../hash.ts";
import { kernel } from "../wasm/kernel.ts";
import { LEAF_SIZE, ROOT_TAG } from "./constants.ts";

const TAG = new TextEncoder().encode(ROOT_TAG);

/** H: the digest of the container's head (header, metadata and its CRC, as stored). */
export function headDigest(head: Uint8Array): Uint8Array {
  return sha256(head);
}

/** R from H and the leaf list (N × 32 bytes, in chunk order). */
export function treeRoot(head: Uint8Array, leaves: Uint8Array): Uint8Array {
  if (head.length !== 32 || leaves.length % LEAF_SIZE !== 0) throw new RangeError("treeRoot: bad digest lengths");
  return sha256Concat([TAG, head, leaves]);
}

/** Most messages one sha256Many call takes: the digests area holds 2048 digests. */
export function batchCapacity(len: number): number {
  const k = kernel();
  return Math.max(0, Math.min(k.digestsSize / 32, Math.floor(k.exports.leafBatchSize() / len)));
}

/**
 * Leaf digests of `count` encoded chunks of `len` bytes laid end to end in `bytes`, on this
 * thread's kernel (four at a time on the SIMD build), into `out` at `outOffset`.
 * Requires count ≤ batchCapacity(len); a chunk too long for one batch is hashed alone.
 */
export function hashLeavesHere(
  bytes: Uint8Array,
  len: number,
  count: number,
  out: Uint8Array,
  outOffset: number,
): void {
  const k = kernel();
  if (count > batchCapacity(len)) {
    if (count !== 1) throw new RangeError(`hashLeavesHere: ${count} messages of ${len} bytes exceed one batch`);
    out.set(sha256(bytes.subarray(0, len)), outOffset);
    return;
  }
  const at = k.exports.leafBatchPtr();
  k.mem.set(bytes.subarray(0, len * count), at);
  k.exports.sha256Many(at, len, count, k.digestsPtr);
  out.set(k.mem.subarray(k.digestsPtr, k.digestsPtr + 32 * count), outOffset);
}
