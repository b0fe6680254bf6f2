// The benchmark suites `ckpt bench` runs, each in a child process of every runtime. Each is
// imported only when it runs: the kernel anchors and the S3 SDK stay unloaded otherwise.
import { requireS3Packages } from "../adapters/s3-packages.ts";
import type { Row, SuiteResult } from "./types.ts";

export const SUITES = ["kernels", "protocols", "timeline", "log", "verify", "v2", "state", "stall", "s3"] as const;
export type SuiteName = (typeof SUITES)[number];

export interface SuiteOptions {
  quick: boolean;
  /** A scratch directory on the filesystem being measured; the suite may fill it. */
  dir: string;
  onProgress?: (done: number, total: number) => void;
}

/** Runs one suite in this process and runtime. */
export async function runSuite(name: SuiteName, opts: SuiteOptions): Promise<SuiteResult> {
  switch (name) {
    case "kernels": {
      const { runKernelBench } = await import("./kernels.ts");
      return { rows: (await runKernelBench({ quick: opts.quick })) as Row[] };
    }
    case "protocols": {
      const { runProtocolBench } = await import("./protocols.ts");
      return runProtocolBench(opts);
    }
    case "timeline": {
      const { runTimeline } = await import("./timeline.ts");
      return runTimeline(opts);
    }
    case "log": {
      const { runLogBench } = await import("./log.ts");
      return { rows: await runLogBench(opts) };
    }
    case "verify": {
      const { runVerifyBench } = await import("./verify.ts");
      return runVerifyBench(opts);
    }
    case "v2": {
      const { runV2Bench } = await import("./v2.ts");
      return runV2Bench(opts);
    }
    case "state": {
      const { runStateBench } = await import("./state.ts");
      return { rows: await runStateBench(opts) };
    }
    case "stall": {
      const { runStallBench } = await import("./stall.ts");
      return runStallBench(opts);
    }
    case "s3": {
      await requireS3Packages();
      const { runS3Bench } = await import("./s3.ts");
      return { rows: (await runS3Bench({ quick: opts.quick })) as Row[] };
    }
  }
}

/** The object-store suite needs a server: it runs only when an endpoint is configured. */
export function s3Configured(env: Record<string, string | undefined>): boolean {
  return !!(env.CKPTKIT_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3);
}
