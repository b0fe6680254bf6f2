// The kernel's exports. Pointers are byte offsets into the fixed memory described in layout.ts;
// the host reads ioPtr()/statePtr()/scratchPtr() once and keeps views over them.
import { CRC_TABLES, DIGESTS, DIGESTS_SIZE, IO, SCRATCH, SCRATCH_SIZE, STATE, STATE_SIZE, IO_SIZE, END, layoutOk } from "./layout";
import { crc32Init, crc32Update } from "./crc32";
import { crc32x16, crc32x16Setup } from "./crc32-x16";
import { sha256Setup } from "./sha256";
import { sha256ManySetup } from "./sha256-many";

if (!layoutOk()) unreachable();
crc32Init();
if (ASC_FEATURE_SIMD) crc32x16Setup();
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
export function tablesPtr(): usize { return CRC_TABLES; }

export function crc32(seed: u32, ptr: usize, len: usize): u32 { return crc32Update(seed, ptr, len); }
/** CRC-32 like crc32; the SIMD build runs 16 streams at once (≥ 16 KiB), the scalar build is crc32. */
export function crc32Wide(seed: u32, ptr: usize, len: usize): u32 {
  return ASC_FEATURE_SIMD ? crc32x16(seed, ptr, len) : crc32Update(seed, ptr, len);
}
export { sha256Init, sha256Update, sha256Final, SHA_STATE_SIZE } from "./sha256";
export { sha256Many } from "./sha256-many";
export {
  writeHeader, checkHeader, encodeChunk, checkChunkHeader, scanChunk, writeTrailer, checkTrailer,
  containerSize,
} from "./container";
