// The AWS SDK is an optional peer dependency: every path into the s3 adapter (or the s3 bench)
// goes through loadS3Adapter, so a missing SDK is a MissingPackageError (exit 3 in the CLI)
// naming both packages, instead of a module-not-found from deep inside a chunk.
import { type OptionalPackage, loadOptional } from "../src/optional-package.ts";

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

/** The s3 adapter module, loaded only after the SDK is known to be there. */
export async function loadS3Adapter(): Promise<typeof import("./s3.ts")> {
  await requireS3Packages();
  return import("./s3.ts");
}
