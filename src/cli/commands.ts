// Every CLI command, in the order `ckpt --help` lists them.
import type { Command } from "./command.ts";
import { demoCommand } from "./demo.ts";
import { corruptCommand, inspectCommand } from "./file-commands.ts";
import { benchCommand } from "./bench.ts";
import { crashtestCommand } from "./crashtest.ts";
import { exploreCommand } from "./explore.ts";
import { hashCommand } from "./hash.ts";
import { logCommand } from "./log-commands.ts";
import { stateCommand } from "./state.ts";
import {
  catCommand,
  latestCommand,
  listCommand,
  restoreCommand,
  rollbackCommand,
  saveCommand,
  verifyCommand,
} from "./store-commands.ts";

export const COMMANDS: Command[] = [
  saveCommand,
  listCommand,
  verifyCommand,
  latestCommand,
  restoreCommand,
  catCommand,
  rollbackCommand,
  inspectCommand,
  corruptCommand,
  logCommand,
  stateCommand,
  demoCommand,
  hashCommand,
  crashtestCommand,
  exploreCommand,
  benchCommand,
];
