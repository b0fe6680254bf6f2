// Loads the embedded kernel synchronously: no fetch, no import.meta.url, no top-level await, so
// the same code works in Node, Deno, Bun and bundlers. Two builds of the same sources are
// embedded (docs/KERNEL.md): "scalar" (runs anywhere) and "simd" (WebAssembly SIMD: 4-lane
// multi-buffer SHA-256, vector message schedule, 16-byte units in the sparse CRC-32). The
// process's kernel is chosen once, on first use: CKPTKIT_KERNEL=scalar|simd|auto or useKernel()
// beforehand; "auto" takes simd when WebAssembly.validate accepts its bytes, else scalar. Its memory is fixed-size (the module
// declares max = initial), so the views made here stay valid for the life of the process.
import { UnsupportedError, UsageError, WasmAbortError } from "../errors.ts";
import { env } from "../env.ts";
import { detectRuntime } from "../runtime.ts";
import { KERNEL_BUILDS } from "./kernel-bytes.generated.ts";

export type KernelVariant = "scalar" | "simd";

/** Preference order for "auto". */
const AUTO_ORDER: KernelVariant[] = ["simd", "scalar"];

/** Exactly what the kernel exports (test/format-constants.test.ts compares it with an instance). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  /** Bytes of one SHA-256 hasher's state at statePtr (src/hash.ts's SHA256_STATE_SIZE). */
  SHA_STATE_SIZE: WebAssembly.Global;
  ioPtr(): number;
  ioSize(): number;
  statePtr(): number;
  stateSize(): number;
  /** Where the CRC-32 slicing tables live (assembly/layout.ts); the host does not use it. */
  tablesPtr(): number;
  scratchPtr(): number;
  scratchSize(): number;
  digestsPtr(): number;
  digestsSize(): number;
  /** First byte past the kernel's memory map (assembly/layout.ts). */
  memoryEnd(): number;
  crc32(seed: number, ptr: number, len: number): number;
  /** crc32 by the sparse-multiple reduction from 8 KiB on (crc32 is the slicing loop alone). */
  crc32Wide(seed: number, ptr: number, len: number): number;
  sha256Init(st: number): void;
  sha256Update(st: number, ptr: number, len: number): void;
  sha256Final(st: number, out: number): void;
  /** SIMD build: one-stream SHA-256 on the scalar rounds (1) or the vector-schedule ones (0). */
  sha256ScalarRounds(on: number): void;
  /** SHA-256 of `count` messages of `len` bytes at ptr, ptr+len, …; digests to `out` (32 B each). */
  sha256Many(ptr: number, len: number, count: number, out: number): void;
  writeHeader(
    ptr: number,
    kind: number,
    chunkSize: number,
    metaLen: number,
    createdAt: number,
    payloadLen: number,
    chunkCount: number,
    version: number,
  ): void;
  checkHeader(ptr: number, fileSize: number): number;
  encodeChunk(ptr: number, type: number, index: number, len: number): number;
  checkChunkHeader(ptr: number, index: number, expectedLen: number): number;
  scanChunk(ptr: number, index: number, expectedLen: number): number;
  writeTrailer(ptr: number, total: number, shaPtr: number): void;
  checkTrailer(ptr: number, total: number, shaPtr: number): number;
  containerSize(metaLen: number, payloadLen: number, chunkCount: number, version: number): number;
  /** Where v2 leaf batches are hashed (sha256Many over encoded chunks laid end to end), and its size. */
  leafBatchPtr(): number;
  leafBatchSize(): number;
}

export interface Kernel {
  readonly exports: KernelExports;
  readonly variant: KernelVariant;
  /** The whole memory, as bytes. */
  readonly mem: Uint8Array;
  /** The I/O window: inputs are copied (or read) here before a kernel call. */
  readonly io: Uint8Array;
  readonly ioPtr: number;
  readonly statePtr: number;
  readonly scratchPtr: number;
  /** Where sha256Many writes digests, and how many bytes of them fit. */
  readonly digestsPtr: number;
  readonly digestsSize: number;
  /** SHA-256 of the loaded .wasm bytes (stamped at build time). */
  readonly sha256: string;
  /**
   * Which streaming hasher's state currently sits at statePtr (src/hash.ts keeps it there
   * between calls and saves it out only when another hasher needs the slot).
   */
  stateOwner: unknown;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const instances: Partial<Record<KernelVariant, Kernel | null>> = {};

/**
 * Whether this engine runs the given build's one-stream SHA-256 on the scalar rounds: under
 * JavaScriptCore (Bun) the SIMD build's scalar rounds are ~1.1× faster than its vector-schedule
 * ones, which V8 prefers (docs/KERNEL.md). Every instance of a build (the hash worker's too) is
 * set up this way.
 */
export function scalarRoundsHere(variant: KernelVariant): boolean {
  return variant === "simd" && detectRuntime() === "bun";
}

/** The .wasm bytes of a build (a fresh copy: e.g. to instantiate the same build in a worker). */
export function kernelBytes(variant: KernelVariant): Uint8Array {
  return decodeBase64(KERNEL_BUILDS[variant].base64);
}

/**
 * Instantiates (once) and returns the given build, or undefined when this engine rejects it
 * (possible for "simd"). Each build has its own memory; kernel() is the one the library uses.
 */
export function loadKernel(variant: KernelVariant): Kernel | undefined {
  const cached = instances[variant];
  if (cached !== undefined) return cached ?? undefined;
  const bytes = decodeBase64(KERNEL_BUILDS[variant].base64) as BufferSource;
  if (!WebAssembly.validate(bytes)) {
    instances[variant] = null;
    return undefined;
  }
  let mem: Uint8Array | undefined;
  const readString = (ptr: number): string => {
    if (!mem || ptr === 0) return "?";
    const len = new Uint32Array(mem.buffer, ptr - 4, 1)[0] ?? 0;
    let s = "";
    for (let i = 0; i < len; i += 2) s += String.fromCharCode(mem[ptr + i]! | (mem[ptr + i + 1]! << 8));
    return s;
  };
  const imports = {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        throw new WasmAbortError(`${readString(msg)} at ${readString(file)}:${line}:${col}`);
      },
    },
  };
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as unknown as KernelExports;
  mem = new Uint8Array(exports.memory.buffer);
  if (scalarRoundsHere(variant)) exports.sha256ScalarRounds(1);
  const ioPtr = exports.ioPtr();
  const k: Kernel = {
    exports,
    variant,
    mem,
    io: mem.subarray(ioPtr, ioPtr + exports.ioSize()),
    ioPtr,
    statePtr: exports.statePtr(),
    scratchPtr: exports.scratchPtr(),
    digestsPtr: exports.digestsPtr(),
    digestsSize: exports.digestsSize(),
    sha256: KERNEL_BUILDS[variant].sha256,
    stateOwner: undefined,
  };
  instances[variant] = k;
  return k;
}

let choice: "auto" | KernelVariant | undefined;
let instance: Kernel | undefined;

/** Validates a kernel choice (from useKernel or CKPTKIT_KERNEL); `from` names the source. */
export function parseKernelChoice(v: string, from: string): "auto" | KernelVariant {
  if (v === "auto" || v === "scalar" || v === "simd") return v;
  throw new UsageError(`${from}: expected auto, simd or scalar, got ${JSON.stringify(v)}`);
}

/**
 * Chooses the build kernel() loads (overrides CKPTKIT_KERNEL). Only before the kernel is first
 * used: callers hold pointers into its memory, so it never changes under them.
 */
export function useKernel(v: "auto" | KernelVariant): void {
  const c = parseKernelChoice(v, "useKernel");
  if (instance && c !== "auto" && c !== instance.variant) {
    throw new UsageError(`useKernel(${c}): the ${instance.variant} kernel is already in use`);
  }
  choice = c;
}

/** The process's kernel, loaded on first use. */
export function kernel(): Kernel {
  if (instance) return instance;
  const fromEnv = env("CKPTKIT_KERNEL");
  const c = choice ?? (fromEnv ? parseKernelChoice(fromEnv, "CKPTKIT_KERNEL") : "auto");
  let k: Kernel | undefined;
  for (const v of c === "auto" ? AUTO_ORDER : [c]) if ((k = loadKernel(v))) break;
  if (!k) {
    throw new UnsupportedError(
      `run the ${c} kernel forced by CKPTKIT_KERNEL/useKernel (this engine rejects its SIMD instructions)`,
      "wasm",
    );
  }
  instance = k;
  return k;
}
