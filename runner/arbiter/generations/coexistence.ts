/**
 * Apps that cannot run twice at once — a dev server that keeps a lock (`next dev`: "Another
 * next dev server is already running"), a port of their own besides the arbiter's — fail the
 * second copy at boot, and a graceful cycle is exactly two copies at once. They say so as they
 * fail: that is how the arbiter tells such a failure from a bug in the code (which would fail
 * the same way alone), and then runs them one at a time, as `-w 1 --reload-mode replace`.
 */

/** What such a failure says: another copy holds something this one needs. */
const ANOTHER_COPY = [
  /\balready running\b/i,
  /\banother\b.*\b(instance|server|process)\b/i,
  /\bEADDRINUSE\b|\baddress already in use\b/i,
  /\block(file| file)?\b.*\b(held|taken|exists|busy)\b|\bcould not (acquire|obtain) (the )?lock\b/i,
];

/** The line of a failed worker's output or error that says another copy is in the way, if any. */
export function anotherCopyInTheWay(lines: readonly string[]): string | undefined {
  return lines.map((line) => line.trim()).find((line) => ANOTHER_COPY.some((pattern) => pattern.test(line)));
}
