// ckptkit's public API: the same in Node, Deno and Bun.
export { crc32, sha256, createSha256, toHex } from "./hash.ts";
export type { Sha256 } from "./hash.ts";
export * from "./errors.ts";
export type { DurableFs, FileHandle, FileStat, OpenOptions, FsCapabilities } from "./fs.ts";
export { defaultFs, detectRuntime } from "../adapters/detect.ts";
export type { Runtime } from "../adapters/detect.ts";
