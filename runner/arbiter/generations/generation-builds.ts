/**
 * What a generation runs, made ready before any of its workers starts: a TypeScript app's
 * build (a syntax error fails the cycle here, before a single spawn), the changed TypeScript
 * files parsed, a Python app's stale bytecode dropped and its changed files handed to the new
 * workers to compile before the app loads. Builds nothing will load again are deleted.
 */
import { dropStaleBytecode } from '../../config/python-app';
import type { ErrorInfo } from '../../protocol/events';
import { isTypeScript, TypeScriptBuild } from '../../typescript/typescript-build';
import { typeScriptSyntaxError } from './syntax-check';

/** A generation ready to boot, with the files its workers check first; or why it cannot. */
export type Prepared = { ok: true; check: string[] | undefined } | { ok: false; error: ErrorInfo };

/** What a generation's TypeScript build took, for its boot profile. */
export type BuildFacts = { ms: number; transformed?: number };

export class GenerationBuilds {
  private readonly typescript: TypeScriptBuild | undefined;
  private readonly facts = new Map<number, BuildFacts>();

  constructor(
    private readonly app: string,
    cwd: string,
    private readonly python: boolean,
  ) {
    if (isTypeScript(app)) this.typescript = new TypeScriptBuild(app, cwd);
  }

  /** Whether workers load a build (stack traces are then mapped back to the sources). */
  get built(): boolean {
    return this.typescript !== undefined;
  }

  /** What a worker of `generation` loads. */
  appOf(generation: number): string {
    return this.typescript?.outputOf(generation) ?? this.app;
  }

  /** Makes `generation` ready to boot; `changed`, the files its cycle changed. */
  async prepare(generation: number, changed: readonly string[] | undefined): Promise<Prepared> {
    if (this.typescript) {
      const startedAt = performance.now();
      const built = await this.typescript.build(generation);
      if (!built.ok) return built;
      const ms = Math.round((performance.now() - startedAt) * 10) / 10;
      this.facts.set(generation, {
        ms,
        ...(built.transformed !== undefined ? { transformed: built.transformed } : {}),
      });
    }
    const syntax = changed ? await typeScriptSyntaxError(changed) : undefined;
    if (syntax) return { ok: false, error: syntax };
    if (!this.python || !changed) return { ok: true, check: undefined };
    dropStaleBytecode(changed);
    return { ok: true, check: changed.filter((file) => file.endsWith('.py')) };
  }

  /** What `generation`'s build took; none for an app that is not built. */
  factsOf(generation: number): BuildFacts | undefined {
    return this.facts.get(generation);
  }

  /** Deletes every build but those of `needed` generations. */
  prune(needed: ReadonlySet<number>): void {
    for (const generation of this.facts.keys()) if (!needed.has(generation)) this.facts.delete(generation);
    for (const generation of this.typescript?.generations() ?? [])
      if (!needed.has(generation)) this.typescript?.remove(generation);
  }

  async dispose(): Promise<void> {
    await this.typescript?.dispose();
  }
}
