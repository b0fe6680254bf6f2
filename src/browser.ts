// ckptkit in a browser (dist/browser.js, built by tsup with the browser swaps in
// tsup.config.ts): the same openStore / openLog / openState API, whose default storage here is
// OPFS (opfsFs()). OPFS's synchronous file handles exist only in a dedicated worker, so the store
// runs in one; serveWorker() / connectWorker() (src/browser-rpc.ts) let the page call it.
// Node-only pieces are left out: the s3:// routing (the AWS SDK over node:), explore's
// node:fs/promises facade and the CLI.
export { crc32, createSha256, sha256, toHex } from "./hash.ts";
export { type KernelVariant, sha256Many, useKernel } from "./hash.ts";
export type { Sha256 } from "./hash.ts";
export * from "./errors.ts";
export type { DurableFs, FileHandle, FileStat, FsCapabilities, OpenOptions, WriterLock } from "./fs.ts";
export { defaultFs, detectRuntime } from "../adapters/detect.ts";
export { opfsFs } from "../adapters/opfs.ts";
export { openLog, openState, openStore, repairLog, replayLog } from "./open.ts";
export { Store, StoreCorruption } from "./store/store.ts";
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
export type { MemberSource } from "./store/member.ts";
export { PROTOCOLS, writeFileWithProtocol } from "./protocol.ts";
export type { Protocol } from "./protocol.ts";
export { ContainerWriter, encodeContainer } from "./format/writer.ts";
export { scanContainer } from "./format/reader.ts";
export type { ContainerHeader, Damage, ScanResult } from "./format/reader.ts";
export { Log, LogDamageError } from "./wal/log.ts";
export type { Durability, LogOptions } from "./wal/log.ts";
export type { LogRecord, ScanReport as LogReport } from "./wal/scan.ts";
export { type RecoveryReport, State, type StateOptions, StateRecoveryError, type StateStats } from "./state/state.ts";
export { connectWorker, type Remote, type RemoteCkpt, serveWorker } from "./browser-rpc.ts";
