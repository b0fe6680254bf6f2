// The full protocol: temp file, write, fsync, close, rename, fsync the directory. Every crash
// state holds a whole version, and once the save returns, version 2 survives.
export { setup, check } from "./common.mjs";

async function writeJsonDurable(fs, file, data) {
  const dir = file.slice(0, file.lastIndexOf("/")) || "/";
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, "w");
  try {
    await fh.writeFile(JSON.stringify(data));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  const d = await fs.open(dir, "r");
  try {
    await d.sync(); // makes the rename durable
  } finally {
    await d.close();
  }
}

export async function workload(fs, { ack }) {
  await writeJsonDurable(fs, "/app/state.json", { version: 2, items: ["a", "b"] });
  ack(2);
}
