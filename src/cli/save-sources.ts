// What `ckpt save` saves: its arguments turned into members (CONTRACT, `save`).
//   <file>        the file, under its base name
//   <dir>         every regular file under it, named by its path relative to <dir> ("a/b.bin")
//   name=<path>   the file under `name`; a directory's files under `name/<relative path>`
// An argument that names an existing file or directory is a path even if it contains "=".
// Symbolic links inside a directory are not followed (a link could lead outside the tree, or
// into a loop): each one is skipped with a note, as are sockets, FIFOs and devices. A link
// named on the command line is followed, as `cp` does. Member names are then held to the
// name rules (guarantee 7) by save itself, before anything is written.
import { FsError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { basename, join } from "../path.ts";

export interface SaveSource {
  name: string;
  path: string;
}

export async function saveSources(fs: DurableFs, args: string[], note: (text: string) => void): Promise<SaveSource[]> {
  const out: SaveSource[] = [];
  for (const arg of args) {
    let name: string | undefined;
    let path = arg;
    let st = await fs.stat(arg);
    const eq = arg.indexOf("=");
    if (!st && eq > 0) {
      name = arg.slice(0, eq);
      path = arg.slice(eq + 1);
      if (path === "") throw new UsageError(`'${arg}': name=path needs a path after '='`);
      st = await fs.stat(path);
    }
    if (!st) throw new FsError("ENOENT", "read", path);
    if (st.isFile) out.push({ name: name ?? basename(path.replace(/\/+$/, "")), path });
    else if (st.isDirectory) {
      const before = out.length;
      await walk(fs, path, name ?? "", out, note);
      if (out.length === before) throw new UsageError(`${path} holds no regular file to save`);
    } else throw new UsageError(`${path} is not a regular file or a directory`);
  }
  return out;
}

/** Every regular file under `dir`, depth first in name order, named `prefix/relative path`. */
async function walk(
  fs: DurableFs,
  dir: string,
  prefix: string,
  out: SaveSource[],
  note: (text: string) => void,
): Promise<void> {
  for (const entry of (await fs.readdir(dir)).sort()) {
    const path = join(dir, entry);
    const name = prefix === "" ? entry : `${prefix}/${entry}`;
    const st = await fs.stat(path, { noFollow: true });
    if (!st) continue; // removed while we walked
    if (st.isSymlink) note(`skipped ${path}: a symbolic link (not followed)`);
    else if (st.isDirectory) await walk(fs, path, name, out, note);
    else if (st.isFile) out.push({ name, path });
    else note(`skipped ${path}: not a regular file`);
  }
}
