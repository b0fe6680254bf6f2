// Picks the storage for a path: `s3://bucket/prefix` goes to the object store, everything else to
// the runtime's local file system. One command often touches both (`ckpt save s3://b/p ./model`
// reads local files into an S3 store; `ckpt restore s3://b/p ./out` writes local files), so the
// CLI gets a fs that routes each call by its path. The AWS SDK is loaded only when an s3:// path
// is first used, so local-only commands never pay for it.
import { FsError, UsageError } from "../src/errors.ts";
import type {
  DurableFs,
  FileHandle,
  FileStat,
  FsCapabilities,
  OpenOptions,
  ProcessIdentity,
  ProcessState,
  StatOptions,
} from "../src/fs.ts";
import { defaultFs } from "./detect.ts";
import type { S3FsOptions } from "./s3-types.ts";
import { isChecksumMode, S3_CHECKSUM_MODES } from "./s3-options.ts";
import { loadS3Adapter } from "./s3-packages.ts";
import { checkS3Url, isS3Path } from "./s3-path.ts";

export { isS3Path };

export class RoutingFs implements DurableFs {
  readonly name = "s3+local";
  readonly capabilities: FsCapabilities;
  private s3fs: Promise<DurableFs> | undefined;
  private readonly options: S3FsOptions;

  /** `s3`: the fs for s3:// paths, or the settings to make one with on first use. */
  constructor(private readonly local: DurableFs = defaultFs(), s3?: DurableFs | S3FsOptions) {
    // S3 always reports dirSync/datasync; what is left to ask is the local side's.
    this.capabilities = { ...local.capabilities };
    if (s3 && "open" in s3) {
      this.s3fs = Promise.resolve(s3);
      this.options = {};
    } else {
      this.options = s3 ?? {};
    }
  }

  private s3(): Promise<DurableFs> {
    this.s3fs ??= loadS3Adapter().then((m) => m.s3Fs({ ...this.options, local: this.local }));
    return this.s3fs;
  }

  private async on(path: string): Promise<DurableFs> {
    return isS3Path(path) ? this.s3() : this.local;
  }

  async open(path: string, o?: OpenOptions): Promise<FileHandle> {
    return (await this.on(path)).open(path, o);
  }
  async rename(from: string, to: string): Promise<void> {
    if (isS3Path(from) !== isS3Path(to)) {
      throw new FsError("EXDEV", "rename", from, `cannot rename across storage to ${to}`);
    }
    return (await this.on(from)).rename(from, to);
  }
  async unlink(path: string): Promise<void> {
    return (await this.on(path)).unlink(path);
  }
  async readdir(path: string): Promise<string[]> {
    return (await this.on(path)).readdir(path);
  }
  async mkdir(path: string, mode?: number): Promise<void> {
    return (await this.on(path)).mkdir(path, mode);
  }
  async rmdir(path: string): Promise<void> {
    return (await this.on(path)).rmdir(path);
  }
  async syncDir(path: string): Promise<void> {
    return (await this.on(path)).syncDir(path);
  }
  async stat(path: string, o?: StatOptions): Promise<FileStat | null> {
    return (await this.on(path)).stat(path, o);
  }
  async chmod(path: string, mode: number): Promise<void> {
    return (await this.on(path)).chmod(path, mode);
  }
  async dropUnfinishedWrites(dir: string, ours: (name: string) => boolean): Promise<string[]> {
    return (await (await this.on(dir)).dropUnfinishedWrites?.(dir, ours)) ?? [];
  }
  pid(): number {
    return this.local.pid();
  }
  hostname(): string {
    return this.local.hostname();
  }
  processAlive(pid: number): boolean {
    return this.local.processAlive(pid);
  }
  async link(existing: string, newPath: string): Promise<void> {
    if (isS3Path(existing) !== isS3Path(newPath)) {
      throw new FsError("EXDEV", "link", existing, `cannot link across storage to ${newPath}`);
    }
    return (await this.on(existing)).link(existing, newPath);
  }
  processIdentity(): ProcessIdentity {
    return this.local.processIdentity();
  }
  processState(pid: number, start?: number): ProcessState {
    return this.local.processState(pid, start);
  }
}

/**
 * Flags every CLI command accepts, for its s3:// paths. They override the environment
 * (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_PROFILE, CKPTKIT_S3_CHECKSUM) and are refused when no
 * path of the command is s3://.
 */
export const S3_FLAGS = {
  endpoint: { type: "string" },
  region: { type: "string" },
  profile: { type: "string" },
  "s3-checksum": { type: "string" },
} as const;

export const S3_FLAGS_HELP = [
  "for s3://bucket/prefix paths (each overrides its environment variable; docs/S3.md):",
  "  --endpoint URL      an S3-compatible server, e.g. http://127.0.0.1:9000   (AWS_ENDPOINT_URL_S3)",
  "  --region R          the region                                           (AWS_REGION)",
  "  --profile NAME      credentials and region from ~/.aws/{credentials,config} (AWS_PROFILE)",
  "  --s3-checksum M     off (default), sha256 or auto: x-amz-checksum-sha256 on uploads, verified",
  "                      by the server (AWS S3, MinIO; not Swift 2.30)           (CKPTKIT_S3_CHECKSUM)",
].join("\n");

type FlagValues = Readonly<Record<string, unknown>>;

/** The S3 settings given as flags, checked (a bad value is a UsageError). */
export function s3OptionsFromFlags(values: FlagValues): S3FsOptions {
  const o: S3FsOptions = {};
  const str = (name: keyof typeof S3_FLAGS): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v.trim() === "") throw new UsageError(`--${name} needs a value`);
    return v;
  };
  const endpoint = str("endpoint");
  if (endpoint !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(endpoint);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname) {
      throw new UsageError(`--endpoint must be an http:// or https:// URL, got '${endpoint}'`);
    }
    o.endpoint = endpoint;
  }
  const region = str("region");
  if (region !== undefined) {
    if (!/^[A-Za-z0-9-]+$/.test(region)) {
      throw new UsageError(`--region must be a region name like eu-west-1, got '${region}'`);
    }
    o.region = region;
  }
  const profile = str("profile");
  if (profile !== undefined) o.profile = profile;
  const checksum = str("s3-checksum");
  if (checksum !== undefined) {
    if (!isChecksumMode(checksum)) {
      throw new UsageError(`--s3-checksum must be ${S3_CHECKSUM_MODES.join(", ")}, got '${checksum}'`);
    }
    o.checksum = checksum;
  }
  return o;
}

/**
 * The fs for a store or file path: the local one, or one that also reaches S3 (configured by
 * `s3`, else from the environment). A malformed s3:// path is a UsageError.
 */
export function fsForPath(path: string, s3?: S3FsOptions): DurableFs {
  return fsForPaths([path], s3);
}

/**
 * The fs for a command's paths: local unless one of them is s3://. A malformed s3:// path (no
 * bucket, a bucket name S3 cannot have) is a UsageError, not a local path that does not exist.
 */
export function fsForPaths(paths: readonly string[], s3?: S3FsOptions): DurableFs {
  for (const p of paths) checkS3Url(p);
  return paths.some(isS3Path) ? new RoutingFs(defaultFs(), s3) : defaultFs();
}

/**
 * The CLI's fs: fsForPaths with the S3_FLAGS among the parsed `values`. Those flags are a
 * UsageError when no path is s3:// (they would silently do nothing).
 */
export function fsForCommand(paths: readonly string[], values: FlagValues): DurableFs {
  const given = Object.keys(S3_FLAGS).filter((k) => values[k] !== undefined);
  const s3 = s3OptionsFromFlags(values);
  for (const p of paths) checkS3Url(p);
  if (given.length > 0 && !paths.some(isS3Path)) {
    throw new UsageError(`--${given[0]} applies to s3:// paths, and none was given`);
  }
  return fsForPaths(paths, s3);
}

/**
 * A fs for s3:// paths (and local ones) with explicit settings: endpoint, credentials, part size.
 * `openStore("s3://bucket/prefix", { fs: await s3Storage({ endpoint }) })`.
 */
export async function s3Storage(options: S3FsOptions = {}): Promise<DurableFs> {
  const local = options.local ?? defaultFs();
  const { s3Fs } = await loadS3Adapter();
  return new RoutingFs(local, s3Fs({ ...options, local }));
}
