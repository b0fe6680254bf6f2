// The naive save: overwrite the file in place. A crash between the truncate and the write (or
// before the data is on disk) leaves an empty file.
export { setup, check } from "./common.mjs";

async function saveState(fs, file, state) {
  await fs.writeFile(file, JSON.stringify(state));
}

export async function workload(fs, { ack }) {
  await saveState(fs, "/app/state.json", { version: 2, items: ["a", "b"] });
  ack(2);
}
