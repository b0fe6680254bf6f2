// Environment variables: read in src/runtime.ts, the core's one module that touches runtime globals.
export { env } from "./runtime.ts";
