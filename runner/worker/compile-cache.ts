/**
 * V8's compile cache for the app's modules (Node ≥ 22.1): a generation after the first reads
 * the compiled code of every file that did not change — the framework and the rest of
 * node_modules above all — instead of parsing and compiling it again. Node keys each entry by
 * the file's path and a hash of its content, so an edited file is compiled afresh. The cache is
 * code this worker will run, so it lives in the arbiter's private folder (this user's alone), as
 * the TypeScript outputs do. On a Node without it, nothing happens.
 */
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir } from '../fs/private-dir';

type WithCompileCache = { enableCompileCache?: (dir: string) => unknown };

export function enableCompileCache(): void {
  const enable = (Module as unknown as WithCompileCache).enableCompileCache;
  if (!enable) return;
  try {
    const purpose = 'the compile cache';
    const mine = ensurePrivateDir(join(tmpdir(), `arbiter-${process.getuid?.() ?? 'user'}`), purpose);
    enable(ensurePrivateDir(join(mine, 'compile-cache'), purpose));
  } catch {
    // A folder that is not private (or cannot be made): the app loads as it would without a
    // cache, which is only slower. The TypeScript build says the same refusal where it applies.
  }
}
