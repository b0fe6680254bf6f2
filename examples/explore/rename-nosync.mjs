// The usual "atomic" write: a temp file, then rename over the target. Without an fsync the rename
// can reach the disk before the data does: the file is replaced by an empty one.
export { setup, check } from "./common.mjs";

async function writeJsonAtomic(fs, file, data) {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(data));
  await fs.rename(tmp, file);
}

export async function workload(fs, { ack }) {
  await writeJsonAtomic(fs, "/app/state.json", { version: 2, items: ["a", "b"] });
  ack(2);
}
