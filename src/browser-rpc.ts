// Calling a store from the page: OPFS's synchronous handles exist only in a dedicated worker, so
// the store and the log live there and the main thread talks to them by messages.
//
//   worker.js:  import { serveWorker } from "./browser.js"; serveWorker();
//   page:       const ck = connectWorker(new Worker("worker.js", { type: "module" }));
//               const store = await ck.openStore("models/run1");
//               await store.save([{ name: "w.bin", data }], { onProgress: (d, t) => … });
//
// Protocol: the page posts { id, target, method, args }; target 0 is the module (openStore,
// openLog, openState, crc32, sha256), any other number an object the worker returned earlier
// (a Store, Log or State: kept in the worker, sent back as { ref }). Replies are { id, value } or
// { id, error: { name, code, message, ... } } (the error's name and code survive, so
// `err.name === "AbortError"` and `err.code === "ELOCKED"` work as in-process). Functions cannot
// cross: an `onProgress` option becomes progress messages and a `signal` option abort messages.
// A ReadableStream result (store.open) is transferred, not copied.
import { crc32, sha256 } from "./hash.ts";
import { openLog, openState, openStore } from "./open.ts";

type Msg =
  | { id: number; target: number; method: string; args: unknown[] }
  | { abort: number };
type Reply =
  | { id: number; value?: unknown; ref?: number; error?: Record<string, unknown> }
  | { progress: number; done: number; total: number };

const MODULE: Record<string, (...a: never[]) => unknown> = { openStore, openLog, openState, crc32, sha256 };

interface Port {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", fn: (e: MessageEvent) => void): void;
}

/** In the worker: answers connectWorker()'s calls. `scope` defaults to the worker's global. */
export function serveWorker(scope: Port = globalThis as unknown as Port): void {
  const objects = new Map<number, Record<string, (...a: unknown[]) => unknown>>();
  const aborts = new Map<number, AbortController>();
  let next = 1;
  scope.addEventListener("message", (e: MessageEvent) => {
    const m = e.data as Msg;
    if ("abort" in m) return void aborts.get(m.abort)?.abort(new DOMException("aborted by the page", "AbortError"));
    void (async () => {
      try {
        const args = m.args.map((a) => revive(a, m.id, scope, aborts));
        const fn = m.target === 0 ? MODULE[m.method] : objects.get(m.target)?.[m.method];
        if (typeof fn !== "function") {
          throw new TypeError(`no method ${m.method} on ${m.target === 0 ? "ckptkit" : `object ${m.target}`}`);
        }
        const self = m.target === 0 ? undefined : objects.get(m.target);
        const value = await (fn as (...a: unknown[]) => unknown).apply(self, args);
        if (m.method === "close" && m.target !== 0) objects.delete(m.target);
        if (value !== null && typeof value === "object" && isRemotable(value)) {
          const ref = next++;
          objects.set(ref, value as Record<string, (...a: unknown[]) => unknown>);
          return scope.postMessage({ id: m.id, ref } satisfies Reply);
        }
        const transfer = value instanceof ReadableStream ? [value as unknown as Transferable] : [];
        scope.postMessage({ id: m.id, value } satisfies Reply, transfer);
      } catch (err) {
        scope.postMessage({ id: m.id, error: errorData(err) } satisfies Reply);
      } finally {
        aborts.delete(m.id);
      }
    })();
  });
}

/** A Store, Log or State: kept in the worker (it holds sync handles and a lock), not copied. */
function isRemotable(v: object): boolean {
  const name = v.constructor?.name;
  return name === "Store" || name === "Log" || name === "State" ||
    (typeof (v as { close?: unknown }).close === "function" && !(v instanceof ReadableStream));
}

function revive(a: unknown, id: number, scope: Port, aborts: Map<number, AbortController>): unknown {
  if (a === null || typeof a !== "object" || Array.isArray(a) || ArrayBuffer.isView(a) || a instanceof Blob) return a;
  const o = { ...(a as Record<string, unknown>) };
  if (o.onProgress === PROGRESS) {
    o.onProgress = (done: number, total: number) => scope.postMessage({ progress: id, done, total } satisfies Reply);
  }
  if (o.signal === SIGNAL) {
    const c = new AbortController();
    aborts.set(id, c);
    o.signal = c.signal;
  }
  return o;
}

const PROGRESS = "__ckptkit_progress__";
const SIGNAL = "__ckptkit_signal__";

function errorData(err: unknown): Record<string, unknown> {
  if (err === null || typeof err !== "object") return { name: "Error", message: String(err) };
  const e = err as Record<string, unknown>;
  const out: Record<string, unknown> = { name: e.name ?? "Error", message: e.message ?? String(err) };
  for (const k of ["code", "errno", "op", "path", "offset", "reason"]) if (e[k] !== undefined) out[k] = e[k];
  return out;
}

type Fn = (...a: never[]) => unknown;
/** An object living in the worker: each method returns a promise of what it returns there. */
export type Remote<T> = {
  [K in keyof T as T[K] extends Fn ? K : never]: T[K] extends (...a: infer A) => infer R
    ? (...a: A) => Promise<Awaited<R> extends { close(): unknown } ? Remote<Awaited<R>> : Awaited<R>>
    : never;
};

export interface RemoteCkpt {
  openStore(...a: Parameters<typeof openStore>): Promise<Remote<Awaited<ReturnType<typeof openStore>>>>;
  openLog(...a: Parameters<typeof openLog>): Promise<Remote<Awaited<ReturnType<typeof openLog>>>>;
  crc32(...a: Parameters<typeof crc32>): Promise<number>;
  sha256(...a: Parameters<typeof sha256>): Promise<Uint8Array>;
}

/** On the page: the worker's ckptkit (the worker must call serveWorker()). */
export function connectWorker(worker: Worker): RemoteCkpt {
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void; progress?: (d: number, t: number) => void }
  >();
  worker.addEventListener("message", (e: MessageEvent) => {
    const r = e.data as Reply;
    if ("progress" in r) return void pending.get(r.progress)?.progress?.(r.done, r.total);
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (r.error) p.reject(Object.assign(new Error(String(r.error.message)), r.error));
    else if (r.ref !== undefined) p.resolve(proxy(r.ref));
    else p.resolve(r.value);
  });
  const call = (target: number, method: string, args: unknown[]): Promise<unknown> => {
    const id = nextId++;
    let progress: ((d: number, t: number) => void) | undefined;
    const sent = args.map((a) => {
      if (a === null || typeof a !== "object" || Array.isArray(a) || ArrayBuffer.isView(a) || a instanceof Blob) {
        return a;
      }
      const o = { ...(a as Record<string, unknown>) };
      if (typeof o.onProgress === "function") {
        progress = o.onProgress as typeof progress;
        o.onProgress = PROGRESS;
      }
      if (o.signal instanceof AbortSignal) {
        const signal = o.signal;
        const abort = () => queueMicrotask(() => worker.postMessage({ abort: id } satisfies Msg)); // after the call itself
        if (signal.aborted) abort();
        else signal.addEventListener("abort", abort, { once: true });
        o.signal = SIGNAL;
      }
      return o;
    });
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, progress });
      worker.postMessage({ id, target, method, args: sent } satisfies Msg);
    });
  };
  // `then` stays undefined: a proxy must not look like a promise to `await`.
  const proxy = (ref: number) =>
    new Proxy({}, {
      get: (_t, k) => (k === "then" || typeof k !== "string" ? undefined : (...a: unknown[]) => call(ref, k, a)),
    });
  return proxy(0) as RemoteCkpt;
}
