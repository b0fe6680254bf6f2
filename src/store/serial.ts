// One Store object, one mutation at a time (guarantee 9: "calls on one Store object are
// serialized"). The writer lock keeps other processes out; this keeps a second call of the same
// process from acting on a half-done first one (a rollback() during a save() saw the save's
// members without a manifest yet and quarantined them after the save returned success).
//
// A promise chain: each call starts when the previous one has settled, whatever its outcome.
// Not re-entrant: a serialized method must call the unserialized body of another, never the
// public (serialized) one, or it waits for itself.
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}
