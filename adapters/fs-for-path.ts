// Picks the storage for a path: `s3://bucket/prefix` goes to the object store, everything else to
// the runtime's local file system. One command often touches both (`ckpt save s3://b/p ./model`
// reads local files into an S3 store; `ckpt restore s3://b/p ./out` writes local files), so the
// CLI gets a fs that routes each call by its path. The AWS SDK is loaded only when an s3:// path
// is first used, so local-only commands never pay for it.
import { FsError } from "../src/errors.ts";
import type { DurableFs, FileHandle, FileStat, FsCapabilities, OpenOptions } from "../src/fs.ts";
import { defaultFs } from "./detect.ts";
import type { S3FsOptions } from "./s3.ts";
import { isS3Path } from "./s3-path.ts";

export { isS3Path };

export class RoutingFs implements DurableFs {
  readonly name = "s3+local";
  readonly capabilities: FsCapabilities;
  private s3fs: Promise<DurableFs> | undefined;

  constructor(private readonly local: DurableFs = defaultFs(), s3?: DurableFs) {
    // S3 always reports dirSync/datasync; what is left to ask is the local side's.
    this.capabilities = { ...local.capabilities };
    if (s3) this.s3fs = Promise.resolve(s3);
  }

  private s3(): Promise<DurableFs> {
    this.s3fs ??= import("./s3.ts").then((m) => m.s3Fs({ local: this.local }));
    return this.s3fs;
  }

  private async on(path: string): Promise<DurableFs> {
    return isS3Path(path) ? this.s3() : this.local;
  }

  async open(path: string, o?: OpenOptions): Promise<FileHandle> { return (await this.on(path)).open(path, o); }
  async rename(from: string, to: string): Promise<void> {
    if (isS3Path(from) !== isS3Path(to)) throw new FsError("EXDEV", "rename", from, `cannot rename across storage to ${to}`);
    return (await this.on(from)).rename(from, to);
  }
  async unlink(path: string): Promise<void> { return (await this.on(path)).unlink(path); }
  async readdir(path: string): Promise<string[]> { return (await this.on(path)).readdir(path); }
  async mkdir(path: string, mode?: number): Promise<void> { return (await this.on(path)).mkdir(path, mode); }
  async rmdir(path: string): Promise<void> { return (await this.on(path)).rmdir(path); }
  async syncDir(path: string): Promise<void> { return (await this.on(path)).syncDir(path); }
  async stat(path: string): Promise<FileStat | null> { return (await this.on(path)).stat(path); }
  async chmod(path: string, mode: number): Promise<void> { return (await this.on(path)).chmod(path, mode); }
  pid(): number { return this.local.pid(); }
  hostname(): string { return this.local.hostname(); }
  processAlive(pid: number): boolean { return this.local.processAlive(pid); }
}

/** The fs for a store or file path: the local one, or one that also reaches S3. */
export function fsForPath(path: string): DurableFs {
  return fsForPaths([path]);
}

/** The fs for a command's paths: local unless one of them is s3://. */
export function fsForPaths(paths: readonly string[]): DurableFs {
  return paths.some(isS3Path) ? new RoutingFs() : defaultFs();
}

/**
 * A fs for s3:// paths (and local ones) with explicit settings: endpoint, credentials, part size.
 * `openStore("s3://bucket/prefix", { fs: await s3Storage({ endpoint }) })`.
 */
export async function s3Storage(options: S3FsOptions = {}): Promise<DurableFs> {
  const local = options.local ?? defaultFs();
  const { s3Fs } = await import("./s3.ts");
  return new RoutingFs(local, s3Fs({ ...options, local }));
}
