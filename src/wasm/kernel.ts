// Loads the embedded kernel synchronously: no fetch, no import.meta.url, no top-level await, so
// the same code works in Node, Deno, Bun and bundlers. One instance per process, created on
// first use. Its memory is fixed-size (the module declares max = initial), so the views made
// here stay valid for the life of the process.
import { WasmAbortError } from "../errors.ts";
import { KERNEL_BASE64, KERNEL_SHA256 } from "./kernel-bytes.generated.ts";

export interface KernelExports {
  memory: WebAssembly.Memory;
  ioPtr(): number;
  ioSize(): number;
  statePtr(): number;
  scratchPtr(): number;
  scratchSize(): number;
  crc32(seed: number, ptr: number, len: number): number;
  sha256Init(st: number): void;
  sha256Update(st: number, ptr: number, len: number): void;
  sha256Final(st: number, out: number): void;
  writeHeader(ptr: number, kind: number, chunkSize: number, metaLen: number, createdAt: number, payloadLen: number, chunkCount: number): void;
  checkHeader(ptr: number, fileSize: number): number;
  encodeChunk(ptr: number, type: number, index: number, len: number): number;
  checkChunkHeader(ptr: number, index: number, expectedLen: number): number;
  scanChunk(ptr: number, index: number, expectedLen: number): number;
  writeTrailer(ptr: number, total: number, shaPtr: number): void;
  checkTrailer(ptr: number, total: number, shaPtr: number): number;
  containerSize(metaLen: number, payloadLen: number, chunkCount: number): number;
}

export interface Kernel {
  readonly exports: KernelExports;
  /** The whole memory, as bytes. */
  readonly mem: Uint8Array;
  /** The I/O window: inputs are copied (or read) here before a kernel call. */
  readonly io: Uint8Array;
  readonly ioPtr: number;
  readonly statePtr: number;
  readonly scratchPtr: number;
  readonly sha256: string;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let instance: Kernel | undefined;

export function kernel(): Kernel {
  if (instance) return instance;
  const module = new WebAssembly.Module(decodeBase64(KERNEL_BASE64) as BufferSource);
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
  const exports = new WebAssembly.Instance(module, imports).exports as unknown as KernelExports;
  mem = new Uint8Array(exports.memory.buffer);
  const ioPtr = exports.ioPtr();
  instance = {
    exports,
    mem,
    io: mem.subarray(ioPtr, ioPtr + exports.ioSize()),
    ioPtr,
    statePtr: exports.statePtr(),
    scratchPtr: exports.scratchPtr(),
    sha256: KERNEL_SHA256,
  };
  return instance;
}
