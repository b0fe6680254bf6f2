// The AWS SDK and vega are optional peer dependencies. Without them, the features that need them
// fail with a MissingPackageError (an EnvironmentError, exit 3 in the CLI) whose message names
// exactly what to install; scripts/pack-check.sh runs the CLI end to end in a lean install.
import assert from "node:assert/strict";
import { test } from "./kit.ts";
import { EnvironmentError } from "../src/errors.ts";
import { loadOptional, MissingPackageError } from "../src/optional-package.ts";
import { requireS3Packages, S3_PACKAGES } from "../adapters/s3-packages.ts";

const ABSENT = "ckptkit-no-such-package";
// A variable specifier on purpose: the real import of a package that is not installed.
const importAbsent = () => import(ABSENT as string);

test("a package that is not installed is a MissingPackageError with the install hint", async () => {
  await assert.rejects(loadOptional("widgets", [{ name: ABSENT, load: importAbsent }]), (err: unknown) => {
    assert.ok(err instanceof MissingPackageError, `typed error, got ${String(err)}`);
    assert.ok(err instanceof EnvironmentError, "an EnvironmentError: the CLI's exit 3");
    assert.equal(err.code, "EMISSINGPACKAGE");
    assert.deepEqual(err.packages, [ABSENT]);
    assert.equal(err.message, `widgets need the optional package ${ABSENT}: npm install ${ABSENT}`);
    return true;
  });
});

test("s3:// without the AWS SDK names both packages and the command that installs them", async () => {
  // The real client-s3 loader beside one for a package that is not there.
  const packages = [S3_PACKAGES[0]!, { name: ABSENT, load: importAbsent }];
  await assert.rejects(requireS3Packages(packages), (err: unknown) => {
    assert.ok(err instanceof MissingPackageError, `typed error, got ${String(err)}`);
    assert.match(
      err.message,
      new RegExp(
        `^s3:// paths need the optional packages @aws-sdk/client-s3 and ${ABSENT}: npm install @aws-sdk/client-s3 ${ABSENT}$`,
      ),
    );
    return true;
  });
});

test("the s3:// message as users see it", () => {
  const err = new MissingPackageError("s3:// paths", S3_PACKAGES.map((p) => p.name));
  assert.equal(
    err.message,
    "s3:// paths need the optional packages @aws-sdk/client-s3 and @aws-sdk/lib-storage: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage",
  );
});

test("a package that is there but fails inside is not reported as missing", async () => {
  const broken = new Error("ReferenceError inside the package");
  await assert.rejects(
    loadOptional("widgets", [{ name: "widget", load: () => Promise.reject(broken) }]),
    (err: unknown) => {
      assert.equal(err, broken, "rethrown as it is");
      return true;
    },
  );
  // Not found, but of something else the package imports: not the package's own absence either.
  const inner = Object.assign(new Error("Cannot find package 'left-pad' imported from widget"), {
    code: "ERR_MODULE_NOT_FOUND",
  });
  await assert.rejects(
    loadOptional("widgets", [{ name: "widget", load: () => Promise.reject(inner) }]),
    (err: unknown) => err === inner,
  );
});

test("installed packages load, all of them", async () => {
  const [progress, sdk] = await loadOptional<[{ default: unknown }, { S3Client: unknown }]>("widgets", [
    { name: "cli-progress", load: () => import("cli-progress") },
    { name: "@aws-sdk/client-s3", load: S3_PACKAGES[0]!.load as () => Promise<{ S3Client: unknown }> },
  ]);
  assert.ok(progress.default);
  assert.equal(typeof sdk.S3Client, "function");
});
