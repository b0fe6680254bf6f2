// What Store.save takes and returns. In a file of its own, below store.ts, so that the builder
// (builder.ts, which store.ts imports) can name them without importing store.ts back.
import type { UserMeta } from "../format/typed-meta.ts";
import type { Protocol } from "../protocol.ts";

export interface SaveOptions {
  step?: number;
  meta?: UserMeta;
  protocol?: Protocol;
  /** After the commit is durable, keep only the newest `keep` valid checkpoints. */
  keep?: number;
  /**
   * Aborting before the commit rejects with an AbortError and removes every file this save
   * created; once the manifest is in place the save has happened and resolves normally.
   */
  signal?: AbortSignal;
  /** Payload bytes written so far, of the total (0 if a source's size is unknown up front). */
  onProgress?: (done: number, total: number) => void;
}

export interface SaveResult {
  step: number;
  files: string[];
  bytes: number;
  protocol: Protocol;
}
