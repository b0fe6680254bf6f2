// Object-store benchmark: save / latest / verify latency and throughput of the store on a real
// S3-compatible server, next to the raw PUT and GET of the same bytes (the server's floor).
// Needs a server: scripts/s3-server.sh start; eval "$(scripts/s3-server.sh env)".
// Run: npx tsx bench/s3.ts | npx deno run -A bench/s3.ts | npx bun bench/s3.ts   [--quick]
import { args, isMain } from "./direct.ts";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { detectRuntime } from "../adapters/detect.ts";
import { env, makeClient } from "../adapters/s3-client.ts";
import { S3Fs } from "../adapters/s3.ts";
import type { Protocol } from "../src/protocol.ts";
import { openStore } from "../src/store/store.ts";
import { KiB, MiB, sizeLabel } from "./stats.ts";

export interface Row {
  suite: "s3";
  case: string;
  impl: string;
  runtime: string;
  size?: number;
  metric: string;
  value: number;
  unit: string;
  p50?: number;
  p90?: number;
  p99?: number;
}

const BUCKET = "ckptkit-bench";

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function fill(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  return out;
}

async function removePrefix(c: S3Client, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) await c.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: o.Key! }));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
}

export async function runS3Bench(opts: { quick: boolean; endpoint?: string }): Promise<Row[]> {
  const endpoint = opts.endpoint ?? env("CKPTKIT_S3_ENDPOINT") ?? env("AWS_ENDPOINT_URL_S3");
  if (!endpoint) throw new Error("no S3 endpoint: start scripts/s3-server.sh and set CKPTKIT_S3_ENDPOINT");
  const credentials = {
    accessKeyId: env("AWS_ACCESS_KEY_ID") ?? "test:tester",
    secretAccessKey: env("AWS_SECRET_ACCESS_KEY") ?? "testing",
  };
  const client = makeClient({ endpoint, credentials });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: { name?: string }) => {
    if (e.name !== "BucketAlreadyOwnedByYou" && e.name !== "BucketAlreadyExists") throw e;
  });
  const runtime = detectRuntime();
  const fs = new S3Fs({ client });
  const root = `bench-${runtime}-${Date.now().toString(36)}`;
  const rows: Row[] = [];
  const add = (r: Omit<Row, "suite" | "runtime">) => rows.push({ suite: "s3", runtime, ...r });
  const timed = (c: string, impl: string, size: number, ms: number[]) => {
    const s = [...ms].sort((a, b) => a - b);
    const p50 = pct(s, 0.5);
    add({ case: c, impl, size, metric: "latency", value: p50, unit: "ms", p50, p90: pct(s, 0.9), p99: pct(s, 0.99) });
    add({ case: c, impl, size, metric: "throughput", value: size / MiB / (p50 / 1000), unit: "MiB/s" });
  };

  const sizes: [number, number][] = opts.quick
    ? [[4 * KiB, 10], [1 * MiB, 5], [16 * MiB, 1]]
    : [[4 * KiB, 30], [1 * MiB, 15], [64 * MiB, 3]];
  try {
    for (const [size, reps] of sizes) {
      const data = fill(size, size);
      const raw: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${root}/raw-${size}-${i}`, Body: data }));
        raw.push(performance.now() - t);
      }
      timed(`save ${sizeLabel(size)}`, "raw PutObject (floor)", size, raw);
      for (const protocol of ["atomic_dirsync", "unsafe"] as Protocol[]) {
        const store = await openStore(`s3://${BUCKET}/${root}/${protocol}-${size}`, { fs, protocol });
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t = performance.now();
          await store.save([{ name: "m", data }]);
          ms.push(performance.now() - t);
        }
        timed(`save ${sizeLabel(size)}`, `ckptkit ${protocol}`, size, ms);
        if (protocol === "unsafe") {
          const lat: number[] = [];
          const ver: number[] = [];
          for (let i = 0; i < Math.min(reps, 5); i++) {
            let t = performance.now();
            const l = await store.latest();
            lat.push(performance.now() - t);
            if (l?.step !== reps) throw new Error("latest returned the wrong step");
            t = performance.now();
            const r = await store.check(l.step);
            ver.push(performance.now() - t);
            if (r.status !== "valid") throw new Error("verify failed");
          }
          timed(`latest (newest ${sizeLabel(size)})`, "ckptkit", size, lat);
          timed(`verify ${sizeLabel(size)}`, "ckptkit check (GET + CRC-32 + SHA-256)", size, ver);
          const get: number[] = [];
          for (let i = 0; i < Math.min(reps, 5); i++) {
            const t = performance.now();
            const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${root}/raw-${size}-${i}` }));
            await r.Body!.transformToByteArray();
            get.push(performance.now() - t);
          }
          timed(`verify ${sizeLabel(size)}`, "raw GetObject (floor)", size, get);
        }
        await store.close();
      }
    }
  } finally {
    await removePrefix(client, `${root}/`);
    client.destroy();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const rows = await runS3Bench({ quick: args.includes("--quick") });
  for (const r of rows) {
    const v = r.value.toFixed(r.value < 100 ? 1 : 0);
    const tail = r.p90 !== undefined ? `  (p90 ${r.p90.toFixed(1)}, p99 ${r.p99!.toFixed(1)})` : "";
    console.log(
      `${r.runtime.padEnd(5)} ${r.case.padEnd(24)} ${r.impl.padEnd(40)} ${r.metric.padEnd(10)} ${
        v.padStart(8)
      } ${r.unit}${tail}`,
    );
  }
}
