/**
 * Reads a zip (a .vsix is one) with nothing but node:zlib: its entries from the central
 * directory, and any entry's bytes. Enough for the packages' tests; no ZIP64, no encryption.
 */
import { readFileSync } from 'node:fs';
import { constants, inflateRawSync } from 'node:zlib';

/** One file in the archive, as the central directory describes it. */
export type ZipEntry = {
  name: string;
  size: number;
  /** The Unix mode, when the archiver recorded one (0 otherwise). */
  mode: number;
};

export class Zip {
  readonly entries = new Map<string, ZipEntry & { method: number; compressed: number; offset: number }>();
  private readonly bytes: Buffer;

  constructor(path: string) {
    this.bytes = readFileSync(path);
    const end = this.bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (end < 0) throw new Error(`${path}: not a zip (no end of central directory)`);
    const count = this.bytes.readUInt16LE(end + 10);
    let at = this.bytes.readUInt32LE(end + 16);
    for (let i = 0; i < count; i++) {
      if (this.bytes.readUInt32LE(at) !== 0x02014b50) throw new Error(`${path}: bad central directory`);
      const nameLength = this.bytes.readUInt16LE(at + 28);
      const skip = nameLength + this.bytes.readUInt16LE(at + 30) + this.bytes.readUInt16LE(at + 32);
      const name = this.bytes.toString('utf8', at + 46, at + 46 + nameLength);
      this.entries.set(name, {
        name,
        method: this.bytes.readUInt16LE(at + 10),
        compressed: this.bytes.readUInt32LE(at + 20),
        size: this.bytes.readUInt32LE(at + 24),
        mode: this.bytes.readUInt32LE(at + 38) >>> 16,
        offset: this.bytes.readUInt32LE(at + 42),
      });
      at += 46 + skip;
    }
  }

  /** The names of every entry. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The entry's first `length` bytes (or fewer, when it is shorter), inflating no more than that. */
  head(name: string, length: number): Buffer {
    const { method, data } = this.raw(name);
    if (method === 0) return data.subarray(0, length);
    // A deflated prefix inflates to at least its own length less a few bytes of block headers.
    const prefix = data.subarray(0, length + 1024);
    return inflateRawSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, length);
  }

  /** The entry's content, inflated. */
  read(name: string): Buffer {
    const { method, data } = this.raw(name);
    if (method === 0) return data;
    return inflateRawSync(data);
  }

  private raw(name: string): { method: number; data: Buffer } {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no ${name} in the archive`);
    const local = entry.offset;
    if (this.bytes.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: bad local header`);
    const start = local + 30 + this.bytes.readUInt16LE(local + 26) + this.bytes.readUInt16LE(local + 28);
    const data = this.bytes.subarray(start, start + entry.compressed);
    if (entry.method !== 0 && entry.method !== 8)
      throw new Error(`${name}: compression method ${entry.method}`);
    return { method: entry.method, data };
  }
}
