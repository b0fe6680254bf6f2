// The states a reboot could find at one crash point: shared by the protocol explorer
// (src/crash/explorer.ts) and the user-facing `explore` (src/explore/explore.ts).
//
// A state is a list of keep-decisions over the pending (unsynced) operations, in issue order:
// false = lost, true = reached the disk, a number = a write torn after that many bytes (a 512-byte
// boundary, adapters/memory.ts SECTOR). Every subset when few are pending, else every in-order
// prefix plus seeded random subsets; torn writes in both (the write torn with everything before
// it kept, and torn with everything else kept).
import { type KeepDecision, MemoryFs, type PendingOp, SECTOR } from "../../adapters/memory.ts";

export type Decisions = KeepDecision[];

export interface StateOptions {
  /** Enumerate every subset when at most this many ops are pending. */
  exhaustiveLimit: number;
  /** Random subsets when more are pending. */
  samples: number;
  /** Tear points tried per pending write (first, middle, last when there are more). */
  tearsPerWrite: number;
  /** Add the torn-write states (default true). */
  torn?: boolean;
}

export function describeOp(op: PendingOp): string {
  switch (op.kind) {
    case "write":
      return `write ${op.path} @${op.offset} +${op.data.length}`;
    case "truncate":
      return `truncate ${op.path} ${op.length}`;
    case "link":
      return `create ${op.path}`;
    case "unlink":
      return `unlink ${op.path}`;
    case "rename":
      return `rename ${op.path}`;
  }
}

/** A kept op as text, saying where a torn write stopped. */
export function describeDecision(op: PendingOp, d: KeepDecision): string {
  return typeof d === "number" ? `${describeOp(op)} (torn: first ${d} bytes reached the disk)` : describeOp(op);
}

export function tearChoices(op: PendingOp, max: number): number[] {
  const all = MemoryFs.tearPoints(op);
  if (all.length <= max) return all;
  const picks = new Set<number>();
  for (let k = 0; k < max; k++) picks.add(all[Math.round((k * (all.length - 1)) / Math.max(1, max - 1))]!);
  return [...picks];
}

/** How many states crashStates returns for `pending`, without building them. */
export function stateCount(pending: PendingOp[], o: StateOptions): { count: number; exhaustive: boolean } {
  const n = pending.length;
  const exhaustive = n <= o.exhaustiveLimit;
  let tears = 0;
  if (o.torn !== false) {
    for (const op of pending) {
      if (op.kind !== "write") continue;
      // Sector boundaries strictly inside the write (MemoryFs.tearPoints), counted without a list.
      const inside = Math.ceil((op.offset + op.data.length) / SECTOR) - Math.floor(op.offset / SECTOR) - 1;
      tears += Math.min(Math.max(0, inside), o.tearsPerWrite);
    }
  }
  return { count: (exhaustive ? 2 ** n : n + 1 + o.samples) + 2 * tears, exhaustive };
}

/** How much of the pending work a state loses: lost ops count 1, torn writes 1/2. */
export function lossWeight(d: Decisions): number {
  let w = 0;
  for (const x of d) w += x === false ? 1 : typeof x === "number" ? 0.5 : 0;
  return w;
}

export function crashStates(
  pending: PendingOp[],
  next: () => number,
  o: StateOptions,
): { states: Decisions[]; exhaustive: boolean } {
  const n = pending.length;
  const states: Decisions[] = [];
  const exhaustive = n <= o.exhaustiveLimit;
  if (exhaustive) {
    for (let mask = 0; mask < 1 << n; mask++) states.push(pending.map((_, i) => (mask & (1 << i)) !== 0));
  } else {
    for (let j = 0; j <= n; j++) states.push(pending.map((_, i) => i < j));
    for (let s = 0; s < o.samples; s++) {
      states.push(pending.map((op) => {
        if (next() < 0.5) return false;
        const tears = o.torn === false ? [] : tearChoices(op, o.tearsPerWrite);
        return tears.length > 0 && next() < 0.25 ? tears[Math.floor(next() * tears.length)]! : true;
      }));
    }
  }
  if (o.torn !== false) {
    // The disk wrote everything before the write in order, then part of it; and the write torn
    // while everything else (before and after) made it.
    pending.forEach((op, i) => {
      for (const t of tearChoices(op, o.tearsPerWrite)) {
        states.push(pending.map((_, j) => (j < i ? true : j === i ? t : false)));
        states.push(pending.map((_, j) => (j === i ? t : true)));
      }
    });
  }
  return { states, exhaustive };
}

/**
 * `b` states drawn without building every one (for a crash point over budget, so the cost is
 * O(b · pending), not O(pending²)): every op lost first, then everything kept, then seeded draws
 * of in-order prefixes, torn writes and random subsets.
 */
export function sampleStates(pending: PendingOp[], next: () => number, o: StateOptions, b: number): Decisions[] {
  const n = pending.length;
  if (n === 0) return [[]];
  const out: Decisions[] = [pending.map(() => false)];
  if (b > 1) out.push(pending.map(() => true));
  const tears: [number, number][] = o.torn === false
    ? []
    : pending.flatMap((op, i) => tearChoices(op, o.tearsPerWrite).map((t): [number, number] => [i, t]));
  while (out.length < b) {
    const r = next();
    if (r < 0.25) {
      const j = Math.floor(next() * (n + 1));
      out.push(pending.map((_, i) => i < j));
    } else if (r < 0.4 && tears.length > 0) {
      const [at, t] = tears[Math.floor(next() * tears.length)]!;
      const prefix = next() < 0.5;
      out.push(pending.map((_, j) => (j === at ? t : prefix ? j < at : true)));
    } else {
      out.push(pending.map(() => next() >= 0.5));
    }
  }
  return out.slice(0, b);
}
