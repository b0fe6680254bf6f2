// `ckpt demo [dir]`: the whole story on an embedded default. Saves three checkpoints into a
// fresh temp store, flips one bit in the newest, shows verify catching it, latest falling back
// to the previous step, rollback quarantining the damaged one and restore returning exact bytes.
import { corruptFile } from "../corrupt.ts";
import { readFile } from "../fs-util.ts";
import { sha256, toHex } from "../hash.ts";
import { join } from "../path.ts";
import { rng } from "../rng.ts";
import { manifestName, memberName } from "../store/layout.ts";
import { openStore } from "../store/store.ts";
import type { Command } from "./command.ts";

function model(step: number): Uint8Array {
  const next = rng(step);
  const b = new Uint8Array(256 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (next() * 256) | 0;
  return b;
}

export const demoCommand: Command = {
  name: "demo",
  usage: "demo [dir] [--json]",
  summary: "save, corrupt, detect, roll back and restore on a temp store (the README's first command)",
  options: {},
  exits: "0 every step behaved as documented, 1 otherwise, 3 I/O error",
  async run(ctx) {
    const root = ctx.positionals[0] ?? join(ctx.tmpdir, `ckptkit-demo-${ctx.fs.pid()}-${Date.now().toString(36)}`);
    const dir = join(root, "store");
    const say = (s: string) => {
      if (!ctx.json) ctx.out(s);
    };
    const enc = new TextEncoder();
    say(`ckptkit demo in ${ctx.runtime}: store ${dir}`);
    const inputs = new Map<number, Map<string, Uint8Array>>();
    const store = await openStore(dir, { fs: ctx.fs });
    let report;
    try {
      for (let step = 1; step <= 3; step++) {
        const members = new Map([["model.bin", model(step)], [
          "state.json",
          enc.encode(JSON.stringify({ step, loss: 1 / step })),
        ]]);
        inputs.set(step, members);
        const r = await store.save([...members].map(([name, data]) => ({ name, data })), {
          meta: { epoch: String(step) },
        });
        say(`  save     step ${r.step}: ${r.files.join(", ")} (${r.bytes} bytes, ${r.protocol})`);
      }
      const victim = join(dir, memberName(3, 0));
      const c = await corruptFile(ctx.fs, victim, "bitflip", { seed: 7 });
      say(`  corrupt  flipped bit ${c.bits![0]} of byte ${c.offset} in ${memberName(3, 0)} (silent disk corruption)`);
      const v = await store.verify();
      for (const f of v.findings) {
        say(
          `  verify   step ${f.step}: ${f.kind} in member ${f.member ?? "-"}${
            f.block !== undefined ? ` block ${f.block}` : ""
          }`,
        );
      }
      const latest = await store.latest();
      say(`  latest   step ${latest?.step} (step 3 no longer verifies, so recovery falls back)`);
      const rb = await store.rollback();
      say(`  rollback quarantined step(s) ${rb.moved.map((m) => m.step).join(", ")} into ${join(dir, ".quarantine")}`);
      const out = join(root, "restored");
      const rs = await store.restore(out);
      let exact = true;
      for (const name of rs.files) {
        const got = await readFile(ctx.fs, join(out, name));
        exact &&= toHex(sha256(got)) === toHex(sha256(inputs.get(rs.step)!.get(name)!));
      }
      say(`  restore  step ${rs.step} into ${out}: ${exact ? "byte-identical to what was saved" : "MISMATCH"}`);
      const next = await store.save([{ name: "state.json", data: enc.encode("{}") }]);
      say(`  save     step ${next.step} (quarantined steps do not count, so the damaged step's number is reused)`);
      report = {
        store: dir,
        saved: [1, 2, 3],
        corrupted: c,
        findings: v.findings,
        latest: latest?.step ?? null,
        rollback: rb,
        restored: rs,
        exact,
        nextStep: next.step,
      };
      if (!exact || latest?.step !== 2 || v.ok) {
        ctx.err("demo: unexpected outcome");
        if (ctx.json) ctx.out(JSON.stringify(report));
        return 1;
      }
    } finally {
      await store.close();
    }
    if (ctx.json) ctx.out(JSON.stringify(report));
    else say(`done: try \`ckpt list ${dir} --verify\` or \`ckpt inspect ${join(dir, manifestName(2))}\``);
    return 0;
  },
};
