// The library entry's opening calls: the core's openStore/openLog/... with `options.fs`
// defaulted to the runtime's adapter. This is where the library picks the adapter (the CLI's
// entry does the same in src/cli/main.ts); everything below takes `fs` as an argument.
import { defaultFs } from "../adapters/detect.ts";
import type { DurableFs } from "./fs.ts";
import { openState as coreOpenState, type State, type StateOptions } from "./state/state.ts";
import { openStore as coreOpenStore, type Store, type StoreOptions } from "./store/store.ts";
import {
  type Log,
  type LogOptions,
  openLog as coreOpenLog,
  replayLog as coreReplayLog,
  type ReplayOptions,
} from "./wal/log.ts";
import type { ScanReport } from "./wal/scan.ts";
import { repairLog as coreRepairLog, type RepairReport } from "./wal/repair.ts";

/**
 * `options` with `fs` set. Anything that is not an options object is passed on unchanged, so the
 * core's argument checks still name it (`openStore: options must be an object`).
 */
function withFs<T extends { fs?: DurableFs }>(options: T | undefined): T & { fs: DurableFs } {
  if (options === undefined) return { fs: defaultFs() } as T & { fs: DurableFs };
  if (typeof options !== "object" || options === null || options.fs !== undefined) {
    return options as T & { fs: DurableFs };
  }
  return { ...options, fs: defaultFs() };
}

export function openStore(dir: string, options: StoreOptions = {}): Promise<Store> {
  return coreOpenStore(dir, withFs(options));
}

export function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  return coreOpenLog(dir, withFs(options));
}

export function replayLog(dir: string, options: ReplayOptions = {}): Promise<ScanReport> {
  return coreReplayLog(dir, withFs(options));
}

export function repairLog(dir: string, options: { fs?: DurableFs } = {}): Promise<RepairReport> {
  return coreRepairLog(dir, withFs(options));
}

export function openState<S>(dir: string, options: StateOptions<S>): Promise<State<S>> {
  return coreOpenState(dir, withFs(options));
}
