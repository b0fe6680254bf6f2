// What the store's helpers see of the Store. store.ts imports retention.ts, restore.ts,
// open-member.ts and builder.ts; were they to name the Store class back (even in an
// `import type`), each would close a cycle with it. Instead each takes the narrowest view below:
// the Store has every member these name, so store.ts passes `this` and the compiler checks it
// there. Nothing private is here: state a helper needs beyond these (retention's verified
// record) is passed to it explicitly.
import type { DurableFs } from "../fs.ts";
import type { CheckpointReport, PayloadSink, ReadControl } from "./check.ts";
import type { SaveOptions, SaveResult } from "./save-types.ts";
import type { MemberSource } from "./source.ts";

/** One step present in the store directory and its files (sorted). */
export interface StepFiles {
  step: number;
  files: string[];
}

/** The store's directory and its steps: what retention (retention.ts) and open (open-member.ts) read. */
export interface StoreFiles {
  readonly dir: string;
  readonly fs: DurableFs;
  /** Steps present (valid, damaged or torn; not quarantined), newest first. */
  steps(): Promise<StepFiles[]>;
}

/** The above plus the full check of one step, streaming its payload to `sink`: what restore.ts needs. */
export interface CheckingStore extends StoreFiles {
  check(step: number, sink?: PayloadSink, io?: ReadControl): Promise<CheckpointReport>;
}

/** The store's save alone: all a CheckpointBuilder (builder.ts) hands its members to. */
export interface CheckpointSaver {
  save(members: MemberSource[], options: SaveOptions): Promise<SaveResult>;
}
