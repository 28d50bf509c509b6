/**
 * What an executable or shared library was built for, read from its header as the loaders read
 * it: ELF (Linux), Mach-O (macOS), PE (Windows), and the machine each names.
 */

/** A binary's format and architecture, in the words of Node's `process.platform`/`arch`. */
export type BinaryKind = { format: 'ELF' | 'Mach-O' | 'PE' | 'unknown'; arch: string };

const ELF_MACHINES: Record<number, string> = { 0x3e: 'x64', 0xb7: 'arm64' };
const MACHO_CPUS: Record<number, string> = { 0x01000007: 'x64', 0x0100000c: 'arm64' };
const PE_MACHINES: Record<number, string> = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32' };

export function binaryKind(bytes: Buffer): BinaryKind {
  if (bytes.length >= 20 && bytes.readUInt32BE(0) === 0x7f454c46) {
    const machine = bytes[5] === 2 ? bytes.readUInt16BE(18) : bytes.readUInt16LE(18);
    return { format: 'ELF', arch: ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}` };
  }
  if (bytes.length >= 8 && bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = bytes.readUInt32LE(4);
    return { format: 'Mach-O', arch: MACHO_CPUS[cpu] ?? `cpu 0x${cpu.toString(16)}` };
  }
  if (bytes.length >= 0x40 && bytes.toString('latin1', 0, 2) === 'MZ') {
    const pe = bytes.readUInt32LE(0x3c);
    if (bytes.length >= pe + 6 && bytes.readUInt32BE(pe) === 0x50450000) {
      const machine = bytes.readUInt16LE(pe + 4);
      return { format: 'PE', arch: PE_MACHINES[machine] ?? `machine 0x${machine.toString(16)}` };
    }
  }
  return { format: 'unknown', arch: 'unknown' };
}
