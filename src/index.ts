// ckptkit's public API: the same in Node, Deno and Bun.
export { crc32, createSha256, sha256, toHex } from "./hash.ts";
export { type KernelVariant, sha256Many, useKernel } from "./hash.ts";
export { type HashWorkerPolicy, setHashWorkerPolicy } from "./hash-stream.ts";
export type { Sha256 } from "./hash.ts";
export * from "./errors.ts";
export { MissingPackageError } from "./optional-package.ts";
export type { DurableFs, FileHandle, FileStat, FsCapabilities, OpenOptions } from "./fs.ts";
export { defaultFs, detectRuntime } from "../adapters/detect.ts";
export type { Runtime } from "../adapters/detect.ts";
export { fsForPath, isS3Path, s3Storage } from "../adapters/fs-for-path.ts";
export { Store, StoreCorruption } from "./store/store.ts";
export { openLog, openState, openStore, repairLog, replayLog } from "./open.ts";
export { CheckpointBuilder } from "./store/builder.ts";
export type {
  CheckpointInfo,
  RollbackReport,
  SaveOptions,
  SaveResult,
  StoreOptions,
  VerifyReport,
} from "./store/store.ts";
export type { CheckpointReport, Finding, FindingKind, Status } from "./store/check.ts";
export type { OpenOptions as OpenMemberOptions } from "./store/open-member.ts";
export type { KeepPolicy } from "./store/retention.ts";
export type { MetaValue, UserMeta } from "./format/typed-meta.ts";
export type { MemberData, MemberSource } from "./store/member.ts";
export { PROTOCOLS, writeFileWithProtocol } from "./protocol.ts";
export type { Protocol } from "./protocol.ts";
export { ContainerWriter, encodeContainer } from "./format/writer.ts";
export { scanContainer } from "./format/reader.ts";
export type { ContainerHeader, Damage, ScanResult } from "./format/reader.ts";
export { Log, LogDamageError } from "./wal/log.ts";
export type { Durability, LogOptions } from "./wal/log.ts";
export type { LogRecord, ScanReport as LogReport } from "./wal/scan.ts";
export {
  explore,
  type ExploreFs,
  type ExploreOptions,
  type ExploreReport,
  type ExploreViolation,
  replayCrash,
} from "./explore/explore.ts";
export { type RecoveryReport, State, type StateOptions, StateRecoveryError, type StateStats } from "./state/state.ts";
