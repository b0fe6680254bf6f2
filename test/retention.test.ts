// Store-level retention (keep: { last, every, best }) and typed metadata: 20 saves with `loss`
// metadata leave exactly the expected set after every save; the newest is never pruned; damaged
// checkpoints are never deleted; metadata values come back with their type while older readers
// (the string map) still see text.
import assert from "node:assert/strict";
import { UsageError } from "../src/errors.ts";
import { userMeta } from "../src/format/manifest.ts";
import { memberName } from "../src/store/layout.ts";
import { type KeepPolicy, stepsToKeep } from "../src/store/retention.ts";
import { openStore } from "../src/store/store.ts";
import { test } from "./kit.ts";
import { flipInMemory } from "./lib/damage.ts";
import { freshStoreFs } from "./lib/store-helpers.ts";

// Not monotonic, with a tie (0.30 at steps 4 and 13): the best two by min are 0.20 (step 9) and
// 0.25 (step 16).
const LOSS = [0.9, 0.8, 0.7, 0.3, 0.6, 0.5, 0.45, 0.4, 0.2, 0.35, 0.5, 0.6, 0.3, 0.33, 0.31, 0.25, 0.4, 0.5, 0.6, 0.7];

/** The set the policy should leave after saving steps 1..n: computed independently of the code. */
function expected(n: number): number[] {
  const keep = new Set<number>();
  for (let s = Math.max(1, n - 2); s <= n; s++) keep.add(s); // last 3
  for (let s = 5; s <= n; s += 5) keep.add(s); // every 5
  const ranked = Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: LOSS[i]! }))
    .sort((a, b) => a.loss - b.loss || b.step - a.step);
  for (const r of ranked.slice(0, 2)) keep.add(r.step); // best 2 by min loss
  return [...keep].sort((a, b) => b - a);
}

test("20 saves under keep { last: 3, every: 5, best: loss min 2 } leave exactly the expected set after every save", async () => {
  const fs = await freshStoreFs();
  const s = await openStore("/store", {
    fs,
    chunkSize: 1024,
    keep: { last: 3, every: 5, best: { key: "loss", mode: "min", n: 2 } },
  });
  for (let n = 1; n <= 20; n++) {
    await s.save([{ name: "w", data: new Uint8Array([n]) }], {
      meta: { loss: LOSS[n - 1]!, epoch: n, final: n === 20, note: `step ${n}` },
    });
    const steps = (await s.list()).map((c) => c.step);
    assert.deepEqual(steps, expected(n), `after save ${n}`);
  }
  assert.deepEqual(expected(20), [20, 19, 18, 16, 15, 10, 9, 5]);
  // Every kept checkpoint is whole and its metadata typed.
  assert.equal((await s.verify()).ok, true);
  const l = await s.load(16);
  assert.deepEqual(l.meta, { loss: 0.25, epoch: 16, final: false, note: "step 16" });
  await s.close();
});

test("the newest valid checkpoint is kept whatever the policy; max mode keeps the highest", async () => {
  const policy: KeepPolicy = { every: 10, best: { key: "acc", mode: "max", n: 1 } };
  const valid = [7, 6, 5, 4].map((step) => ({ step, meta: { acc: step === 5 ? 0.99 : 0.5 } }));
  assert.deepEqual([...stepsToKeep(valid, policy)].sort(), [5, 7]);
  // Numeric strings (a store written by --meta or an older writer) rank too; others never do.
  const mixed = [{ step: 3, meta: { acc: "0.7" } }, { step: 2, meta: { acc: "n/a" } }, { step: 1, meta: { acc: 0.6 } }];
  assert.deepEqual([...stepsToKeep(mixed, { last: 1, best: { key: "acc", mode: "max", n: 2 } })].sort(), [1, 3]);
});

test("a damaged checkpoint is never deleted by retention (rollback quarantines it)", async () => {
  const fs = await freshStoreFs();
  const s = await openStore("/store", { fs, chunkSize: 1024, keep: { last: 1 }, inlineMax: 0 }); // a member file to damage
  await s.save([{ name: "w", data: new Uint8Array(3000) }]);
  flipInMemory(fs, `/store/${memberName(1, 0)}`, 200, 1); // step 1 was saved by this same Store
  await s.save([{ name: "w", data: new Uint8Array(3000) }]);
  await s.save([{ name: "w", data: new Uint8Array(3000) }]);
  assert.deepEqual((await s.list()).map((c) => c.step), [3, 1], "step 2 pruned, damaged step 1 left for rollback");
  await s.close();
});

test("a bad retention policy is refused before the store is created", async () => {
  const fs = await freshStoreFs();
  for (
    const keep of [0, {}, { last: 0 }, { every: 1.5 }, { best: { key: "loss", mode: "low", n: 1 } }, {
      best: { key: "", mode: "min", n: 1 },
    }, { lst: 3 }]
  ) {
    await assert.rejects(openStore("/new", { fs, keep: keep as KeepPolicy }), UsageError, JSON.stringify(keep));
  }
  assert.equal(await fs.stat("/new"), null);
});

test("typed metadata: numbers and booleans come back typed; the string map older readers use holds text", async () => {
  const fs = await freshStoreFs();
  const s = await openStore("/store", { fs });
  const meta = { loss: 0.1 + 0.2, big: 2 ** 53 - 1, neg: -0, tiny: 5e-324, ok: true, no: false, s: "0.25", t: "true" };
  await s.save([{ name: "w", data: new Uint8Array(1) }], { meta });
  const got = (await s.latest())!.meta!;
  assert.deepEqual(got, meta);
  assert.ok(Object.is(got.neg, -0));
  assert.equal(typeof got.s, "string", "a string that looks like a number stays a string");
  // What an older reader sees: the user.* map, all text.
  const raw = (await s.list())[0]!;
  assert.equal(raw.meta!.loss, 0.30000000000000004);
  const older = userMeta({ "ckptkit.step": "1", "user.loss": "0.30000000000000004", "user.ok": "true" });
  assert.deepEqual(older, { loss: "0.30000000000000004", ok: "true" }, "without the types entry every value is text");
  // A types entry that does not fit its text (hand-edited, crafted) leaves the text alone.
  assert.deepEqual(
    userMeta({ "user.a": "abc", "user.b": "yes", "ckptkit.types": '{"a":"number","b":"boolean","zz":"number"}' }),
    { a: "abc", b: "yes" },
  );
  assert.deepEqual(userMeta({ "user.a": "1", "ckptkit.types": "not json" }), { a: "1" });
  await s.close();
});
