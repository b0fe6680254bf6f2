// The store's public API called from plain JavaScript with wrong types: every one is a
// UsageError naming the argument and what it got, before anything is written; nothing is
// coerced ("[object Object]" as a directory, a string as 3 odd bytes of a member).
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { UsageError } from "../src/errors.ts";
import { openStore } from "../src/index.ts";
import { test } from "./kit.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

function usage(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof UsageError, `a UsageError, got ${String(err)}`);
    assert.equal((err as UsageError).code, "EUSAGE");
    assert.match((err as Error).message, pattern);
    return true;
  };
}

test("openStore with a dir that is not a string, or options of the wrong types, is a UsageError", async () => {
  const fs = new MemoryFs();
  const open = openStore as Loose;
  await assert.rejects(open(42, { fs }), usage(/openStore: dir must be a non-empty string, got number 42/));
  await assert.rejects(open({ path: "/s" }, { fs }), usage(/openStore: dir must be a non-empty string, got an object/));
  await assert.rejects(open("", { fs }), usage(/openStore: dir/));
  await assert.rejects(open("/s", "fast"), usage(/openStore: options must be an object, got 'fast'/));
  await assert.rejects(
    open("/s", { fs, chunkSize: "64k" }),
    usage(/options\.chunkSize must be an integer ≥ 1, got '64k'/),
  );
  await assert.rejects(
    open("/s", { fs, protocol: "fsync" }),
    usage(/options\.protocol must be one of unsafe, atomic_nodirsync, atomic_dirsync/),
  );
  await assert.rejects(open("/s", { fs, readOnly: "yes" }), usage(/options\.readOnly must be true or false/));
  await assert.rejects(open("/s", { fs: {} }), usage(/options\.fs must be a DurableFs/));
  await assert.rejects(open("/s", { fs, keep: "3" }), usage(/options\.keep must be an object/));
  assert.deepEqual(await fs.readdir("/"), [], "nothing was created");
});

test("save with members that are not an array, lack a name, or carry data that is not bytes is a UsageError, and writes nothing", async () => {
  const fs = new MemoryFs();
  const s = await openStore("/s", { fs });
  try {
    const save = s.save.bind(s) as Loose;
    const bytes = new Uint8Array([1, 2, 3]);
    await assert.rejects(save({ name: "a", data: bytes }), usage(/save: members must be an array/));
    await assert.rejects(save("a.bin"), usage(/save: members must be an array/));
    await assert.rejects(save([null]), usage(/members\[0\] must be an object/));
    await assert.rejects(
      save([{ data: bytes }]),
      usage(/members\[0\]\.name must be a non-empty string, got undefined/),
    );
    await assert.rejects(
      save([{ name: 7, data: bytes }]),
      usage(/members\[0\]\.name must be a non-empty string, got number 7/),
    );
    await assert.rejects(
      save([{ name: "a", data: "x=1" }]),
      usage(/members\[0\]\.data must be a Uint8Array, Blob, ReadableStream or AsyncIterable<Uint8Array>, got 'x=1'/),
    );
    await assert.rejects(save([{ name: "a", data: [1, 2, 3] }]), usage(/members\[0\]\.data must be .*got an array/));
    await assert.rejects(save([{ name: "a", data: new ArrayBuffer(3) }]), usage(/got an ArrayBuffer/));
    await assert.rejects(save([{ name: "a" }]), usage(/members\[0\] \('a'\) must have exactly one of data or path/));
    await assert.rejects(save([{ name: "a", data: bytes, path: "/x" }]), usage(/exactly one of data or path/));
    await assert.rejects(
      save([{ name: "a", data: bytes }, { name: "b", path: 5 }]),
      usage(/members\[1\]\.path must be a non-empty string, got number 5/),
    );
    await assert.rejects(save([{ name: "a", data: bytes }], "fast"), usage(/save: options must be an object/));
    await assert.rejects(
      save([{ name: "a", data: bytes }], { keep: "2" }),
      usage(/save: options\.keep must be an integer ≥ 1, got '2'/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { keep: 0 }),
      usage(/options\.keep must be an integer ≥ 1, got number 0/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { step: 1.5 }),
      usage(/options\.step must be an integer ≥ 1, got number 1.5/),
    );
    await assert.rejects(save([{ name: "a", data: bytes }], { step: "3" }), usage(/options\.step must be an integer/));
    await assert.rejects(
      save([{ name: "a", data: bytes }], { protocol: "fast" }),
      usage(/options\.protocol must be one of/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { meta: "lr=1" }),
      usage(/options\.meta must be an object/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { meta: { lr: { v: 1 } } }),
      usage(/options\.meta\['lr'\] must be a string, a finite number or a boolean, got an object/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { meta: { lr: Number.NaN } }),
      usage(/options\.meta\['lr'\]/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { onProgress: 1 }),
      usage(/options\.onProgress must be a function/),
    );
    await assert.rejects(
      save([{ name: "a", data: bytes }], { signal: true }),
      usage(/options\.signal must be an AbortSignal/),
    );
    assert.deepEqual((await fs.readdir("/s")).filter((n) => n !== ".lock"), [], "no refused save wrote a byte");
    // The same call with the right types goes through: the checks refuse only what is wrong.
    const r = await s.save([{ name: "a", data: bytes }], { step: 3, keep: 2, meta: { lr: "0.1" } });
    assert.equal(r.step, 3);
  } finally {
    await s.close();
  }
});

test("load, restore and list refuse arguments of the wrong type", async () => {
  const fs = new MemoryFs();
  const s = await openStore("/s", { fs });
  try {
    await s.save([{ name: "a", data: new Uint8Array([1]) }]);
    const loose = s as Loose;
    await assert.rejects(loose.load("1"), usage(/load: step must be an integer ≥ 1, got '1'/));
    await assert.rejects(loose.restore(undefined), usage(/restore: outDir must be a non-empty string, got undefined/));
    await assert.rejects(loose.restore("/out", { step: "1" }), usage(/restore: options\.step must be an integer/));
    await assert.rejects(
      loose.restore("/out", { onProgress: "x" }),
      usage(/restore: options\.onProgress must be a function/),
    );
    await assert.rejects(loose.list(true), usage(/list: options must be an object, got boolean true/));
    assert.equal(await fs.stat("/out"), null, "no refused restore created its target");
  } finally {
    await s.close();
  }
});
