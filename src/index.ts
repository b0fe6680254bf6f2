// ckptkit's public API: the same in Node, Deno and Bun.
export { crc32, sha256, createSha256, toHex } from "./hash.ts";
export type { Sha256 } from "./hash.ts";
export * from "./errors.ts";
export type { DurableFs, FileHandle, FileStat, OpenOptions, FsCapabilities } from "./fs.ts";
export { defaultFs, detectRuntime } from "../adapters/detect.ts";
export type { Runtime } from "../adapters/detect.ts";
export { openStore, Store, StoreCorruption } from "./store/store.ts";
export { CheckpointBuilder } from "./store/builder.ts";
export type { StoreOptions, SaveOptions, SaveResult, CheckpointInfo, VerifyReport, RollbackReport } from "./store/store.ts";
export type { CheckpointReport, Finding, FindingKind, Status } from "./store/check.ts";
export type { MemberSource } from "./store/member.ts";
export { writeFileWithProtocol, PROTOCOLS } from "./protocol.ts";
export type { Protocol } from "./protocol.ts";
export { ContainerWriter, encodeContainer } from "./format/writer.ts";
export { scanContainer } from "./format/reader.ts";
export type { ScanResult, Damage, ContainerHeader } from "./format/reader.ts";
