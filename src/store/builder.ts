// A fluent way to assemble one checkpoint (after RingKernel's CheckpointBuilder):
//   await store.builder().meta("epoch", "3").add("weights.bin", bytes).addFile("cfg.json", path).save()
// Nothing touches disk until save(), which is the store's ordinary all-or-nothing save.
import { UsageError } from "../errors.ts";
import type { UserMeta } from "../format/typed-meta.ts";
import type { Protocol } from "../protocol.ts";
import { checkMemberName } from "../format/member-name.ts";
import type { MemberData, MemberSource } from "./member.ts";
import type { SaveResult } from "./save-types.ts";
import type { CheckpointSaver } from "./store-context.ts";

export class CheckpointBuilder {
  private readonly members: MemberSource[] = [];
  private readonly names = new Set<string>();
  private readonly metadata: UserMeta = {};
  private stepNumber?: number;
  private protocolName?: Protocol;

  constructor(private readonly store: CheckpointSaver) {}

  /** Adds a member from bytes in memory, a Blob, a ReadableStream or an AsyncIterable of bytes. */
  add(name: string, data: MemberData): this {
    return this.push({ name, data });
  }

  /** Adds a member streamed from a file when save() runs. */
  addFile(name: string, path: string): this {
    return this.push({ name, path });
  }

  meta(key: string, value: string | number | boolean): this {
    this.metadata[key] = value; // typed: comes back as a number or boolean (docs/FORMAT.md)
    return this;
  }

  step(step: number): this {
    this.stepNumber = step;
    return this;
  }

  protocol(protocol: Protocol): this {
    this.protocolName = protocol;
    return this;
  }

  save(options: { keep?: number } = {}): Promise<SaveResult> {
    return this.store.save(this.members, {
      step: this.stepNumber,
      meta: this.metadata,
      protocol: this.protocolName,
      keep: options.keep,
    });
  }

  private push(m: MemberSource): this {
    // Each name early, for a message at the call that added it; save() checks the whole set
    // (uniqueness and file/directory clashes) again before writing.
    checkMemberName(m.name);
    if (this.names.has(m.name)) throw new UsageError(`member name '${m.name}' appears twice`);
    this.names.add(m.name);
    this.members.push(m);
    return this;
  }
}
