// The core takes its storage as an argument: `options.fs`, a DurableFs. It never picks an
// adapter itself (that would make it import the runtime's fs, see docs/ARCHITECTURE.md); the
// entry points do: src/index.ts's openStore/openLog/... default it to the runtime's adapter,
// the CLI passes the one fsForPath chose.
import { UsageError } from "./errors.ts";
import type { DurableFs } from "./fs.ts";

/** Options of a core entry (Store.open, Log.open, ...): the storage is required here. */
export interface WithFs {
  fs: DurableFs;
}

/** `options.fs`, or a UsageError naming the call (a JavaScript caller may omit it). */
export function requireFs(options: { fs?: DurableFs } | undefined, call: string): DurableFs {
  const fs = options?.fs;
  if (fs === undefined) {
    throw new UsageError(
      `${call}: options.fs is required here; import ${call} from the package entry ("ckptkit"), which defaults it to the runtime's adapter`,
    );
  }
  return fs;
}
