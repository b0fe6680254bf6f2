// The AWS SDK is an optional peer dependency: every path into the s3 adapter (or the s3 bench)
// goes through loadS3Adapter, so a missing SDK is a MissingPackageError (exit 3 in the CLI)
// naming both packages, instead of a module-not-found from deep inside a chunk.
import type { DurableFs } from "../src/fs.ts";
import { loadOptional, type OptionalPackage } from "../src/optional-package.ts";
import type { S3FsOptions } from "./s3-types.ts";

export const S3_FEATURE = "s3:// paths";

/** The SDK's packages, each imported by a literal specifier (analyzable by bundlers and JSR). */
export const S3_PACKAGES: readonly OptionalPackage[] = [
  { name: "@aws-sdk/client-s3", load: () => import("@aws-sdk/client-s3") },
  { name: "@aws-sdk/lib-storage", load: () => import("@aws-sdk/lib-storage") },
];

/** Resolves once the SDK is importable; throws MissingPackageError when it is not installed. */
export async function requireS3Packages(packages: readonly OptionalPackage[] = S3_PACKAGES): Promise<void> {
  await loadOptional(S3_FEATURE, packages);
}

/**
 * What callers use of the s3 adapter module, typed here rather than as `typeof import("./s3.ts")`:
 * a type that names s3.ts makes every type check of the library entry load the SDK's types
 * (`deno check src/index.ts` from a clean directory failed on the @aws-sdk import).
 */
export interface S3AdapterModule {
  s3Fs(options?: S3FsOptions): DurableFs;
}

/** The s3 adapter module, loaded only after the SDK is known to be there. */
export async function loadS3Adapter(): Promise<S3AdapterModule> {
  await requireS3Packages();
  return import("./s3.ts");
}
