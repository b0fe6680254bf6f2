// File modes on the real file system, as write-file-atomic: replacing a file keeps its mode (a
// 0600 secret stays 0600), a new file is 0o666 less the umask, an explicit `mode` wins; store
// members and manifests follow the umask too instead of a hard-coded 0644.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { defaultFs } from "../adapters/detect.ts";
import { PROTOCOLS, writeFileWithProtocol } from "../src/protocol.ts";
import { openStore } from "../src/open.ts";
import { runtime, test } from "./kit.ts";

const bytes = new TextEncoder().encode("secret");
const modeOf = (p: string) => statSync(p).mode & 0o7777;

/** Runs `fn` under `mask`, restoring the previous umask (Deno.umask in Deno, process.umask elsewhere). */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const D = (globalThis as { Deno?: { umask(m?: number): number } }).Deno;
  const set = (m: number) => (D ? D.umask(m) : process.umask(m));
  const before = set(mask);
  try {
    return await fn();
  } finally {
    set(before);
  }
}

function tempDir(): string {
  return mkdtempSync(`${tmpdir()}/ckpt-modes-${runtime}-`);
}

test("replacing an existing 0600 file keeps 0600 under every atomic protocol (and unsafe)", async () => {
  const dir = tempDir();
  try {
    for (const p of PROTOCOLS) {
      const f = `${dir}/${p}`;
      writeFileSync(f, "old");
      chmodSync(f, 0o600);
      await withUmask(0o022, () => writeFileWithProtocol(defaultFs(), f, bytes, p));
      assert.equal(modeOf(f), 0o600, `${p}: the target's mode is kept`);
      // Set-uid/set-gid never carry over to the new file.
      chmodSync(f, 0o4750);
      await writeFileWithProtocol(defaultFs(), f, bytes, p);
      assert.equal(modeOf(f) & 0o777, 0o750, `${p}: the permission bits are kept`);
      if (p !== "unsafe") assert.equal(modeOf(f) & 0o7000, 0, `${p}: set-uid is dropped`);
    }
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(".tmp-")), [], "no temp left");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a new file is 0o666 less the umask: 0640 under umask 027; an explicit mode still wins", async () => {
  const dir = tempDir();
  try {
    await withUmask(0o027, async () => {
      for (const p of PROTOCOLS) {
        await writeFileWithProtocol(defaultFs(), `${dir}/new-${p}`, bytes, p);
        assert.equal(modeOf(`${dir}/new-${p}`), 0o640, `${p}: a new file follows the umask`);
      }
      await writeFileWithProtocol(defaultFs(), `${dir}/explicit`, bytes, "atomic_dirsync", { mode: 0o604 });
      assert.equal(modeOf(`${dir}/explicit`), 0o604, "an explicit mode is applied as given");
      writeFileSync(`${dir}/explicit`, "x");
      chmodSync(`${dir}/explicit`, 0o600);
      await writeFileWithProtocol(defaultFs(), `${dir}/explicit`, bytes, "atomic_dirsync", { mode: 0o644 });
      assert.equal(modeOf(`${dir}/explicit`), 0o644, "an explicit mode wins over the target's");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store members and manifests follow the umask (0664 under 002, 0640 under 027)", async () => {
  for (const [mask, want] of [[0o002, 0o664], [0o027, 0o640]] as const) {
    const dir = tempDir();
    try {
      await withUmask(mask, async () => {
        const s = await openStore(`${dir}/store`, { create: true });
        try {
          // The large member gets its own file (small ones are stored inline in the manifest).
          await s.save([{ name: "a.bin", data: bytes }, { name: "b.bin", data: new Uint8Array(100_000) }]);
        } finally {
          await s.close();
        }
      });
      const files = readdirSync(`${dir}/store`).filter((n) => !n.startsWith("."));
      assert.ok(files.length >= 2, `a member and a manifest: ${files.join(", ")}`);
      for (const f of files) assert.equal(modeOf(`${dir}/store/${f}`), want, `${f} under umask ${mask.toString(8)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
