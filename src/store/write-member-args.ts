// What writing one member takes: the sized writer (member.ts) and the unsized one
// (unsized-member.ts) share it. A file of its own so that both import it from below: member.ts
// hands streams to unsized-member.ts, so the latter importing the type back would close a cycle.
import type { DurableFs } from "../fs.ts";
import type { MemberSource } from "./source.ts";

export interface WriteMemberArgs {
  fs: DurableFs;
  /** Full path of the member file to create (must not exist). */
  path: string;
  source: MemberSource;
  step: number;
  index: number;
  chunkSize: number;
  createdAt: number;
  /** fsync the member before returning (every protocol but unsafe). */
  sync: boolean;
  /** Checked before every chunk: an aborted save stops within one chunk (the caller removes the file). */
  signal?: AbortSignal;
  /** Called with the payload bytes of each chunk once it is queued for writing. */
  onBytes?: (n: number) => void;
}
