// Runs count independent async jobs with at most `lanes` in flight, results in job order. Used to
// check two files (or checkpoints) at once, so that one can be hashed on the hash worker while
// this thread hashes the other (src/hash-stream.ts); findings stay in a deterministic order.
// On an error no new job starts, the ones in flight finish, and then the first error is thrown:
// nothing keeps running (or holding a file) after the caller has been told it failed.
export async function inLanes<T>(count: number, lanes: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  // One lane is a plain loop (the common case: a save of small members, a check of one file): no
  // lane closure and no Promise.all on a path that runs for every 4 KiB save. The same order and
  // the same rule on errors (the first one stops it).
  if (lanes <= 1) {
    for (let i = 0; i < count; i++) out[i] = await run(i);
    return out;
  }
  let next = 0;
  let failed: { err: unknown } | undefined;
  const lane = async () => {
    while (next < count && !failed) {
      const i = next++;
      try {
        out[i] = await run(i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
  if (failed) throw failed.err;
  return out;
}
