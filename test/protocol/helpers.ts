/** Shared helpers for the protocol tests: load the schema and the generated codecs. */
import { kebabName, loadMessages, type MessageSpec } from '../../scripts/codegen/schema.ts';
import { DEFAULT_MESSAGES_DIR } from '../../scripts/codegen/main.ts';
import type { MessageCodec } from '../../src/protocol/primitives/codec.ts';
import { Reader } from '../../src/protocol/primitives/reader.ts';
import { Writer } from '../../src/protocol/primitives/writer.ts';

export interface Loaded {
  spec: MessageSpec;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  codec: MessageCodec<any>;
}

/** The message definitions directory (override with KAFKA_MESSAGES_DIR). */
export const MESSAGES_DIR = process.env['KAFKA_MESSAGES_DIR'] ?? DEFAULT_MESSAGES_DIR;

export async function loadAll(): Promise<Loaded[]> {
  const specs = loadMessages(MESSAGES_DIR);
  const out: Loaded[] = [];
  for (const spec of specs) {
    const mod = (await import(`../../src/protocol/messages/${kebabName(spec.file)}.generated.ts`)) as Record<string, unknown>;
    const codec = mod[spec.name] as Loaded['codec'] | undefined;
    if (!codec) throw new Error(`${spec.name} is not exported by its generated module`);
    out.push({ spec, codec });
  }
  return out;
}

export function versionsOf(spec: MessageSpec): number[] {
  const out: number[] = [];
  for (let v = spec.validVersions.lo; v <= spec.validVersions.hi; v++) out.push(v);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function encode(codec: MessageCodec<any>, msg: unknown, version: number): Buffer {
  const w = new Writer(64);
  codec.encode(w, msg, version);
  return w.toBuffer();
}

/** Decodes and requires that the whole buffer was consumed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function decodeAll(codec: MessageCodec<any>, buf: Buffer, version: number): unknown {
  const r = new Reader(buf);
  const msg = codec.decode(r, version);
  if (r.remaining !== 0) throw new Error(`${codec.name} v${version}: ${r.remaining} bytes left after decode`);
  return msg;
}
