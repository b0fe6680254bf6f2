// Shared by the examples: the initial state (version 1, durable) and the check every crash state
// must pass. The file must always hold a whole version, and once the workload has acknowledged
// version 2 (its save returned), a power loss must not take it back to version 1.
export async function setup(fs) {
  await fs.mkdir("/app", { recursive: true });
  await fs.writeFile("/app/state.json", JSON.stringify({ version: 1, items: ["a"] }));
}

export async function check(fs, { acked }) {
  const text = await fs.readFile("/app/state.json", "utf8"); // throws ENOENT if the file is gone
  const state = JSON.parse(text); // throws on a torn or empty file
  if (state.version !== 1 && state.version !== 2) throw new Error(`unexpected version ${state.version}`);
  if (acked.includes(2) && state.version !== 2) throw new Error("version 2 was acknowledged, but the file holds version 1 after the crash");
}
