// CLI commands over the checkpoint store: save, list, verify, latest, restore, rollback.
import { FsError, NoCheckpointError, UsageError } from "../errors.ts";
import { join } from "../path.ts";
import { parseProtocol } from "../protocol.ts";
import type { CheckpointReport } from "../store/check.ts";
import { isDamage, STATUS_NOTE } from "../store/interrupted.ts";
import { checkManifestMetadata } from "../store/save-limits.ts";
import { openStore, type Store } from "../store/store.ts";
import type { Command, CommandContext } from "./command.ts";
import { intFlag, need } from "./flags.ts";
import { escapeList, escapeText as esc } from "./escape.ts";
import { verifyProgress } from "./count-reads.ts";
import { byteProgress } from "./progress.ts";
import { verifyFile } from "./verify-file.ts";
import { saveSources } from "./save-sources.ts";
import { createSha256, toHex } from "../hash.ts";

type Access = "read" | "write" | "create";

/** Only `save` creates a missing store; every other command reports it (exit 3). */
async function withStore<T>(
  ctx: CommandContext,
  dir: string,
  access: Access,
  fn: (s: Store) => Promise<T>,
  fs = ctx.fs,
): Promise<T> {
  const s = await openStore(dir, {
    fs,
    readOnly: access === "read",
    create: access === "create",
    onWarning: (m) => ctx.note(esc(m)),
  });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const time = (
  ms?: number,
) => (ms === undefined ? "-" : new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"));

function parseMeta(values: CommandContext["values"]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const kv of (values.meta as string[] | undefined) ?? []) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--meta wants key=value, got '${kv}'`);
    meta[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return meta;
}

export const saveCommand: Command = {
  name: "save",
  usage: "save <store> <file or dir or name=path>… [--step N] [--protocol P] [--meta k=v]… [--keep N] [--json]",
  summary: "save files as one checkpoint (all or nothing); prints the step",
  help: [
    "The step defaults to one above the highest present. Protocols: unsafe, atomic_nodirsync,",
    "atomic_dirsync (default: durable once save returns). --keep N prunes to the newest N valid",
    "checkpoints after the commit is durable. A file is saved under its base name; a directory as",
    "every regular file under it, named by its path relative to the directory (symbolic links in it",
    "are not followed: each is skipped with a note); name=path saves path under name (a directory's",
    "files under name/…). An argument that names an existing path is a path even if it has '='.",
  ].join("\n"),
  options: {
    step: {
      type: "string",
      arg: "N",
      help: "the new checkpoint's step (above every step present; default: one above)",
    },
    protocol: { type: "string", arg: "P", help: "unsafe, atomic_nodirsync or atomic_dirsync (default)" },
    meta: { type: "string", multiple: true, arg: "k=v", help: "metadata to store with the checkpoint (repeatable)" },
    keep: { type: "string", arg: "N", help: "after the commit, prune to the newest N valid checkpoints" },
  },
  exits: "0 saved, 2 usage error (bad flag, step not above the highest), 3 I/O error",
  async run(ctx) {
    const [dir, ...args] = need(ctx, 2, "<store> and at least one <file>, <dir> or name=path");
    const step = intFlag(ctx.values, "step", 1);
    const keep = intFlag(ctx.values, "keep", 1);
    const protocol = parseProtocol((ctx.values.protocol as string | undefined) ?? "atomic_dirsync");
    const meta = parseMeta(ctx.values);
    checkManifestMetadata(step ?? 1, meta); // oversized --meta: exit 2 before the store is created or locked
    const signal = ctx.interruptible?.();
    const bar = byteProgress(ctx, "save");
    const onProgress = (done: number, total: number) => bar.update(done, total);
    const members = await saveSources(ctx.fs, args, (m) => ctx.note(esc(m)));
    const r = await withStore(
      ctx,
      dir!,
      "create",
      (s) => s.save(members, { step, protocol, meta, keep, signal, onProgress }),
    ).finally(() => bar.stop());
    if (ctx.json) {
      ctx.out(JSON.stringify({ step: r.step, files: r.files, bytes: r.bytes, protocol: r.protocol, store: dir }));
    } else {ctx.out(
        `saved step ${r.step} (${r.files.length} file${
          r.files.length === 1 ? "" : "s"
        }, ${r.bytes} bytes, ${r.protocol})`,
      );}
    return 0;
  },
};

export const listCommand: Command = {
  name: "list",
  usage: "list <store> [--verify] [--json]",
  summary: "list checkpoints, newest first (with --verify: valid, corrupt, torn, incomplete or in-progress)",
  options: { verify: { type: "boolean", help: "scan every byte and show each checkpoint's status" } },
  exits: "0 listed, 2 usage error, 3 no such store or I/O error",
  async run(ctx) {
    const [dir] = need(ctx, 1, "<store>");
    const items = await withStore(ctx, dir!, "read", (s) => s.list({ verify: ctx.values.verify === true }));
    if (ctx.json) {
      ctx.out(JSON.stringify({ store: dir, checkpoints: items }));
      return 0;
    }
    if (items.length === 0) ctx.out(`no checkpoints in ${dir}`);
    for (const c of items) {
      ctx.out(
        [
          `step ${c.step}`.padEnd(12),
          time(c.createdAt).padEnd(21),
          `${c.bytes} B`.padStart(12),
          c.status ? c.status.padEnd(8) : "",
          escapeList(c.files) || "(manifest unreadable)",
        ].filter(Boolean).join("  "),
      );
    }
    return 0;
  },
};

function summarize(c: CheckpointReport): string {
  if (STATUS_NOTE[c.status]) return `step ${c.step}: ${c.status} (${STATUS_NOTE[c.status]})`;
  return c.status === "valid"
    ? `step ${c.step}: valid`
    : `step ${c.step}: ${c.status}\n${
      c.findings.map((f) =>
        `  ${f.kind} in ${esc(f.file)}${f.member ? ` (member ${esc(f.member)})` : ""}${
          f.block !== undefined ? ` block ${f.block}` : ""
        }: ${esc(f.message)}`
      ).join("\n")
    }`;
}

export const verifyCommand: Command = {
  name: "verify",
  usage: "verify <store or checkpoint file> [--json]",
  summary: "full integrity scan: every byte of every checkpoint (exit 1 if damage is found)",
  options: {},
  exits:
    "0 every committed checkpoint valid (interrupted saves are not damage), 1 damage found, 2 usage error, 3 I/O error",
  async run(ctx) {
    const [path] = need(ctx, 1, "<store or checkpoint file>");
    const st = await ctx.fs.stat(path!);
    if (!st) throw new FsError("ENOENT", "verify", path!);
    const { fs, bar } = await verifyProgress(ctx, path!, st); // a byte bar counted from the reads
    if (!st.isDirectory) {
      const r = await verifyFile(fs, path!).finally(() => bar.stop());
      if (ctx.json) ctx.out(JSON.stringify(r));
      else {ctx.out(
          r.ok
            ? `${path}: valid (${r.kind}, ${r.fileSize} bytes)`
            : `${path}: damaged\n${
              r.damage.map((d) => `  ${d.kind} at byte ${d.offset}: ${esc(d.message)}`).join("\n")
            }`,
        );}
      return r.ok ? 0 : 1;
    }
    const report = await withStore(ctx, path!, "read", (s) => s.verify(), fs).finally(() => bar.stop());
    if (ctx.json) {
      ctx.out(
        JSON.stringify({
          store: path,
          ok: report.ok,
          checkpoints: report.checkpoints.map((c) => ({ step: c.step, status: c.status, findings: c.findings })),
          findings: report.findings,
        }),
      );
    } else {
      for (const c of report.checkpoints) ctx.out(summarize(c));
      const bad = report.checkpoints.filter((c) => isDamage(c.status)).length;
      const committed = report.checkpoints.filter((c) => !STATUS_NOTE[c.status]).length;
      ctx.out(report.ok ? `all ${committed} checkpoints valid` : `${bad} of ${committed} checkpoints damaged`);
    }
    return report.ok ? 0 : 1;
  },
};

export const latestCommand: Command = {
  name: "latest",
  usage: "latest <store> [--json]",
  summary: "the newest checkpoint that verifies (exit 1 if none is valid)",
  options: {},
  exits: "0 found, 1 no valid checkpoint, 2 usage error, 3 no such store or I/O error",
  async run(ctx) {
    const [dir] = need(ctx, 1, "<store>");
    const l = await withStore(ctx, dir!, "read", (s) => s.latest());
    if (ctx.json) {
      ctx.out(JSON.stringify(
        l
          ? {
            step: l.step,
            files: l.files,
            paths: l.manifest.members.map((m) => join(dir!, m.file)),
            bytes: l.bytes,
            createdAt: l.createdAt,
            meta: l.meta,
          }
          : { step: null },
      ));
    } else ctx.out(l ? `step ${l.step}: ${escapeList(l.files)}` : `no valid checkpoint in ${dir}`);
    return l ? 0 : 1;
  },
};

export const restoreCommand: Command = {
  name: "restore",
  usage: "restore <store> <out-dir> [--step N] [--json]",
  summary: "write the members of the newest valid (or given) checkpoint into an empty out-dir",
  options: { step: { type: "string", arg: "N", help: "restore this step instead of the newest valid one" } },
  exits: "0 restored, 1 that checkpoint is damaged or none is valid, 2 usage error (out-dir not empty), 3 I/O error",
  async run(ctx) {
    const [dir, out] = need(ctx, 2, "<store> and <out-dir>");
    const step = intFlag(ctx.values, "step", 1);
    const signal = ctx.interruptible?.();
    const r = await withStore(ctx, dir!, "read", async (s) => {
      const bar = byteProgress(ctx, "restore");
      try {
        return await s.restore(out!, { step, onProgress: (done, total) => bar.update(done, total), signal });
      } catch (err) {
        // No valid checkpoint, as restore's own search (stoppable by Ctrl-C) found: a latest()
        // here first verified every byte once more, and a signal waited for it to end.
        if (step === undefined && err instanceof NoCheckpointError) return null;
        throw err;
      } finally {
        bar.stop();
      }
    });
    if (!r) {
      if (ctx.json) ctx.out(JSON.stringify({ step: null, error: "no valid checkpoint" }));
      else ctx.err(`ckpt restore: no valid checkpoint in ${dir}`);
      return 1;
    }
    if (ctx.json) ctx.out(JSON.stringify({ step: r.step, files: r.files, bytes: r.bytes, outDir: out }));
    else ctx.out(`restored step ${r.step} into ${out}: ${escapeList(r.files)} (${r.bytes} bytes)`);
    return 0;
  },
};

export const rollbackCommand: Command = {
  name: "rollback",
  usage: "rollback <store> [--json]",
  summary: "move damaged or torn checkpoints newer than the newest valid one into .quarantine/",
  options: {},
  exits: "0 done (whether or not anything moved), 2 usage error, 3 no such store or I/O error",
  async run(ctx) {
    const [dir] = need(ctx, 1, "<store>");
    const r = await withStore(ctx, dir!, "write", (s) => s.rollback());
    if (ctx.json) ctx.out(JSON.stringify(r));
    else {
      for (const m of r.moved) ctx.out(`quarantined step ${m.step} (${m.status}): ${escapeList(m.files)}`);
      ctx.out(
        r.moved.length === 0 ? "nothing to roll back" : `newest valid checkpoint is now ${r.newestValid ?? "none"}`,
      );
    }
    return 0;
  },
};

export const catCommand: Command = {
  name: "cat",
  usage: "cat <store> <member> [--step N] [--json]",
  summary: "write one member of the newest valid (or given) checkpoint to stdout, verified chunk by chunk",
  help: [
    "Each chunk is checked (header, CRC-32, the manifest's CRC) before any of its bytes is written;",
    "the SHA-256 of the member's file is checked at the end. Exit 1 if the member is damaged (what",
    "came before the damaged chunk has been written) or if there is no such checkpoint or member.",
    "With --json nothing of the member is written: one document with its step, size and SHA-256.",
  ].join("\n"),
  options: { step: { type: "string", arg: "N", help: "the checkpoint to read (default: the newest valid one)" } },
  exits: "0 written, 1 damaged or no such checkpoint or member, 2 usage error, 3 I/O error",
  async run(ctx) {
    const [dir, member] = need(ctx, 2, "<store> and <member>");
    const step = intFlag(ctx.values, "step", 1);
    if (!ctx.json && !ctx.writeOut) throw new UsageError("this front end cannot write bytes to stdout");
    return withStore(ctx, dir!, "read", async (s) => {
      // One pass: open() finds the newest valid checkpoint while it streams (no latest() first).
      let target = step;
      const bar = byteProgress(ctx, "cat", { writesStdout: true });
      const reader = s.open(member!, {
        step,
        onStep: (n) => {
          target = n;
        },
        onProgress: (done, total) => bar.update(done, total),
      }).getReader();
      const sha = createSha256();
      let bytes = 0;
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          bytes += r.value.length;
          if (ctx.json) sha.update(r.value);
          else await ctx.writeOut!(r.value);
        }
      } finally {
        reader.releaseLock();
        bar.stop();
      }
      if (ctx.json) ctx.out(JSON.stringify({ step: target, member, bytes, sha256: toHex(sha.digest()) }));
      return 0;
    });
  },
};
