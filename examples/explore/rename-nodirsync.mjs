// Temp file, fsync, rename: the bytes are safe, but the rename is a change to the directory, and
// without an fsync of the directory it can be lost: the save returned, yet after the power loss
// the file is the old version.
export { setup, check } from "./common.mjs";

async function writeJsonAtomic(fs, file, data) {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, "w");
  try {
    await fh.writeFile(JSON.stringify(data));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

export async function workload(fs, { ack }) {
  await writeJsonAtomic(fs, "/app/state.json", { version: 2, items: ["a", "b"] });
  ack(2);
}
