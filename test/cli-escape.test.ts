// Human output never prints a control character from a store (the contract, after the command
// table): a crafted store whose member name and metadata hold "\x1b[31m" (and an OSC title
// change, a bidi override) and "\r" is listed, verified, inspected, restored and rolled back
// through the CLI of the runtime running this test, and no output holds a raw ESC, CR or other
// control character; --json still carries the exact strings.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { defaultFs } from "../adapters/detect.ts";
import { escapeText } from "../src/cli/escape.ts";
import { encodeManifest } from "../src/format/manifest.ts";
import { writeFileWithProtocol } from "../src/protocol.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { writeMember } from "../src/store/member.ts";
import { openStore } from "../src/open.ts";
import { ckpt, type CliResult, noCrash } from "./lib/cli.ts";
import { runtime, test } from "./kit.ts";

const EVIL = "\x1b[31mred\x1b]0;pwned\x07\rover\u202eright\x9b";
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

test("escapeText makes every control character visible and keeps printable Unicode", () => {
  assert.equal(escapeText("a\x1b[31mb\r\n\t\x00\x7f\x9b"), "a\\x1b[31mb\\r\\n\\t\\x00\\x7f\\x9b");
  assert.equal(escapeText("\u202eevil\u2028"), "\\u202eevil\\u2028");
  assert.equal(escapeText("Grüße, 日本語 🙂 a\\b"), "Grüße, 日本語 🙂 a\\b");
  // deno-lint-ignore no-control-regex
  for (let c = 0; c < 0x2100 + 0x100; c++) {
    assert.doesNotMatch(escapeText(String.fromCharCode(c)), /[\u0000-\u001f\u007f-\u009f]/);
  }
});

/** A store whose step 1 is ordinary but for its metadata, and whose step 2 records a member name no save accepts. */
async function craftedStore(dir: string): Promise<void> {
  const s = await openStore(dir);
  try {
    await s.save([{ name: "plain.bin", data: new Uint8Array([1, 2, 3]) }], { meta: { note: EVIL, [`k${EVIL}`]: "v" } });
  } finally {
    await s.close();
  }
  const fs = defaultFs();
  const createdAt = Date.now();
  const entry = await writeMember({
    fs,
    path: `${dir}/${memberName(2, 0)}`,
    source: { name: `${EVIL}.bin`, data: new Uint8Array([4, 5, 6]) },
    step: 2,
    index: 0,
    chunkSize: 1024,
    createdAt,
    sync: true,
  });
  const manifest = encodeManifest({ step: 2, createdAt, meta: { note: EVIL }, members: [entry] });
  await writeFileWithProtocol(fs, `${dir}/${manifestName(2)}`, manifest, "atomic_dirsync");
}

function clean(what: string, r: CliResult): void {
  noCrash(r);
  assert.doesNotMatch(
    r.stdout,
    RAW_CONTROL,
    `${what}: stdout holds a raw control character: ${JSON.stringify(r.stdout)}`,
  );
  assert.doesNotMatch(
    r.stderr,
    RAW_CONTROL,
    `${what}: stderr holds a raw control character: ${JSON.stringify(r.stderr)}`,
  );
}

test("list, verify, latest, inspect, restore and rollback print a crafted store's names and metadata escaped", async () => {
  const root = mkdtempSync(`${tmpdir()}/ckpt-escape-${runtime}-`);
  try {
    const store = `${root}/store`;
    await craftedStore(store);
    const commands: [string, string[]][] = [
      ["list", ["list", store]],
      ["list --verify", ["list", store, "--verify"]],
      ["verify", ["verify", store]],
      ["latest", ["latest", store]],
      ["inspect manifest 1", ["inspect", `${store}/${manifestName(1)}`]],
      ["inspect manifest 2", ["inspect", `${store}/${manifestName(2)}`]],
      ["inspect member 2", ["inspect", `${store}/${memberName(2, 0)}`]],
      ["verify member 2", ["verify", `${store}/${memberName(2, 0)}`]],
      ["restore step 2", ["restore", store, `${root}/out2`, "--step", "2"]],
      ["restore", ["restore", store, `${root}/out`]],
    ];
    let sawEscape = false;
    for (const [what, args] of commands) {
      const r = ckpt(args);
      clean(what, r);
      if ((r.stdout + r.stderr).includes("\\x1b[31m")) sawEscape = true;
    }
    assert.ok(sawEscape, "the crafted strings were printed (escaped), not dropped");
    // --json carries the exact strings: JSON escapes them, the parser gives them back.
    const inspect = ckpt(["inspect", `${store}/${manifestName(1)}`, "--json"]).json<
      { metadata: Record<string, string> }
    >();
    assert.ok(Object.values(inspect.metadata).includes(EVIL), "inspect --json keeps the raw metadata value");
    const list = ckpt(["list", store, "--json"]);
    assert.ok(list.stdout.includes("\\u001b[31m"), "JSON escapes ESC itself");
    // A damaged newer checkpoint so rollback has something to move (and print).
    const m2 = `${store}/${manifestName(2)}`;
    ckpt(["corrupt", m2, "--mode", "zerorange", "--offset", "0", "--length", "8"]);
    clean("verify after damage", ckpt(["verify", store]));
    clean("rollback", ckpt(["rollback", store]));
    assert.ok(readdirSync(`${store}/.quarantine`).length > 0, "rollback moved the damaged checkpoint");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
