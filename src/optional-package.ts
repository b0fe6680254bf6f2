// Optional packages: the AWS SDK (s3:// paths) and vega/vega-lite (bench charts) are optional peer
// dependencies, so the core installs lean. Invariant: a feature that needs one either gets the
// module or fails with a MissingPackageError (an EnvironmentError: CLI exit 3) whose message names
// exactly what to install; it never surfaces the runtime's raw "module not found".
// Each importer is a closure around an `import("literal")`, so bundlers and `deno publish` can see
// the specifier (a variable specifier is unanalyzable).
import { EnvironmentError } from "./errors.ts";

/** A feature's optional packages are not installed. `packages` is what `npm install` needs. */
export class MissingPackageError extends EnvironmentError {
  readonly feature: string;
  readonly packages: readonly string[];
  constructor(feature: string, packages: readonly string[], cause?: unknown) {
    const names = packages.length === 1
      ? `the optional package ${packages[0]}`
      : `the optional packages ${packages.slice(0, -1).join(", ")} and ${packages.at(-1)}`;
    super("EMISSINGPACKAGE", `${feature} need ${names}: npm install ${packages.join(" ")}`, { cause });
    this.feature = feature;
    this.packages = packages;
  }
}

/** One optional package: its name and a closure that imports it by a string-literal specifier. */
export interface OptionalPackage<T = unknown> {
  name: string;
  load: () => Promise<T>;
}

/** Whether `err` says that `name` itself could not be found (not a failure inside it). */
export function isNotFound(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : String(err);
  // The name quoted, alone or with a subpath: "Cannot find package 'x' imported from y" is about x.
  const quoted = new RegExp(`['"\`]${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(/[^'"\`]*)?['"\`]`);
  if (!quoted.test(message)) return false;
  // Node: ERR_MODULE_NOT_FOUND; Bun: ERR_MODULE_NOT_FOUND or "Cannot find package/module";
  // Deno: "Could not find package", "Import ... not a dependency", "Relative import path".
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" ||
    /cannot find (package|module)|could not find|not a dependency|not found|relative import path|could not resolve/i
      .test(message);
}

/**
 * Loads every package of `feature` (all or nothing). Missing ones become one MissingPackageError
 * naming all of the feature's packages (installing only some would just move the error); a
 * package that is present but fails to load is rethrown as it is.
 */
export async function loadOptional<T extends readonly unknown[]>(
  feature: string,
  packages: { [K in keyof T]: OptionalPackage<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(packages.map((p) => p.load()));
  const names = packages.map((p) => p.name);
  for (const [i, r] of settled.entries()) {
    if (r.status === "rejected") {
      if (isNotFound(r.reason, names[i]!)) throw new MissingPackageError(feature, names, r.reason);
      throw r.reason;
    }
  }
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
