// Runs count independent async jobs with at most `lanes` in flight, results in job order. Used to
// check two files (or checkpoints) at once, so that one can be hashed on the hash worker while
// this thread hashes the other (src/hash-stream.ts); findings stay in a deterministic order.
// On an error no new job starts, the ones in flight finish, and then the first error is thrown:
// nothing keeps running (or holding a file) after the caller has been told it failed.
export async function inLanes<T>(count: number, lanes: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
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
