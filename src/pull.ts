// Turns a push-style producer (a scan that calls `emit` for each item and awaits it) into a
// pull-based async generator: the producer runs only while the consumer asks for items. Used by
// store.open (chunks of a member) and log.records() (records of a log).
// Invariants: the producer is started by the first next(); each emit resolves only when the
// consumer asks for the item after it, so nothing is read ahead; when the consumer stops early
// (break, return(), a cancelled stream) the pending emit rejects and the generator's return()
// resolves only after the producer has ended (its files closed).

/** Thrown into the producer by an emit after the consumer stopped. */
class Stopped extends Error {}

type Item<T> = { value: T; taken: () => void } | { done: true } | { error: unknown };

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export async function* pullFrom<T>(
  run: (emit: (item: T) => Promise<void>) => Promise<void>,
): AsyncGenerator<T, void, undefined> {
  let next = deferred<Item<T>>();
  let stopped = false;
  let waiting: (() => void) | undefined;
  const emit = async (value: T) => {
    if (stopped) throw new Stopped();
    await new Promise<void>((taken) => {
      waiting = taken;
      next.resolve({ value, taken });
    });
    waiting = undefined;
    if (stopped) throw new Stopped();
  };
  const producer = run(emit).then(() => next.resolve({ done: true }), (error) => next.resolve({ error }));
  try {
    for (;;) {
      const item = await next.promise;
      if ("done" in item) return;
      if ("error" in item) throw item.error;
      next = deferred(); // before taken(): the producer resolves the new one with its next item
      yield item.value;
      item.taken();
    }
  } finally {
    stopped = true;
    waiting?.();
    await producer;
  }
}

/** A ReadableStream over an async generator, pulled one item per read (high-water mark 0). */
export function streamFrom<T>(it: AsyncGenerator<T, void, undefined>): ReadableStream<T> {
  return new ReadableStream<T>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await it.return();
    },
  }, { highWaterMark: 0 });
}
