// The kernel's exports. Pointers are byte offsets into the fixed memory described in layout.ts;
// the host reads ioPtr()/statePtr()/scratchPtr() once and keeps views over them.
import { CRC_TABLES, DIGESTS, DIGESTS_SIZE, LEAF_BATCH, LEAF_BATCH_SIZE, IO, SCRATCH, SCRATCH_SIZE, STATE, STATE_SIZE, IO_SIZE, END, layoutOk } from "./layout";
import { crc32Init, crc32Update } from "./crc32";
import { crc32Sparse } from "./crc32-sparse";
import { sha256Setup } from "./sha256";
import { sha256ManySetup } from "./sha256-many";

if (!layoutOk()) unreachable();
crc32Init();
sha256Setup();
sha256ManySetup();

export function ioPtr(): usize { return IO; }
export function ioSize(): usize { return IO_SIZE; }
export function statePtr(): usize { return STATE; }
export function stateSize(): usize { return STATE_SIZE; }
export function scratchPtr(): usize { return SCRATCH; }
export function scratchSize(): usize { return SCRATCH_SIZE; }
export function digestsPtr(): usize { return DIGESTS; }
export function digestsSize(): usize { return DIGESTS_SIZE; }
export function memoryEnd(): usize { return END; }
export function leafBatchPtr(): usize { return LEAF_BATCH; }
export function leafBatchSize(): usize { return LEAF_BATCH_SIZE; }
export function tablesPtr(): usize { return CRC_TABLES; }

export function crc32(seed: u32, ptr: usize, len: usize): u32 { return crc32Update(seed, ptr, len); }
/**
 * CRC-32 like crc32: from 8 KiB on by reduction modulo a sparse multiple of the polynomial
 * (assembly/crc32-sparse.ts; 16-byte units as v128 in the SIMD build, as i64 pairs in the scalar
 * one), below that the slicing loop. crc32 is always the slicing loop (tests compare the two).
 */
export function crc32Wide(seed: u32, ptr: usize, len: usize): u32 {
  return crc32Sparse(seed, ptr, len);
}
export { sha256Init, sha256Update, sha256Final, sha256ScalarRounds, SHA_STATE_SIZE } from "./sha256";
export { sha256Many } from "./sha256-many";
export {
  writeHeader, checkHeader, encodeChunk, checkChunkHeader, scanChunk, writeTrailer, checkTrailer,
  containerSize,
} from "./container";
