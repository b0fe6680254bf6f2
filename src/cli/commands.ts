// Every CLI command, in the order `ckpt --help` lists them. One module per command.
import type { Command } from "./command.ts";
import { hashCommand } from "./hash.ts";

export const COMMANDS: Command[] = [hashCommand];
