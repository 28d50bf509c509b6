/**
 * The configuration a cycle boots with, re-read when it changed: the config file on HUP or
 * when it was saved, the --env-file files when one of them was (or the config, which may name
 * others). A broken re-read fails the cycle and keeps what was in force; the bind addresses
 * never change without a restart (the sockets are the arbiter's).
 */
import type { ArbiterHooks } from '../../config/hooks';
import type { Settings } from '../../config/settings';
import { changedNames, readEnvFiles, type EnvFiles } from '../../config/env-files';
import type { ErrorInfo } from '../../protocol/events';
import type { ReloadRequest } from '../intake/reload-requests';

/** Re-reads the config file; throws (a UsageError) when it is broken. */
export type ConfigReader = () => Promise<{ settings: Settings; hooks: ArbiterHooks }>;

/** What a re-read changed, for the arbiter to apply. */
export type Reread =
  | { ok: false; error: ErrorInfo }
  | {
      ok: true;
      /** The config file's hooks, when it was re-read. */
      hooks?: ArbiterHooks;
      /** The config's worker count, when it changed. */
      workers?: number;
      /** The env variables the re-read changed, by name (never values). */
      env?: string[];
      /** The bind addresses changed, which takes a restart. */
      bindChanged?: boolean;
    };

export class LiveConfig {
  private current: Settings;
  private envFiles: EnvFiles;

  constructor(
    settings: Settings,
    private readonly cwd: string,
    private readonly readConfig: ConfigReader | undefined,
  ) {
    this.current = settings;
    this.envFiles = readEnvFiles(settings.envFile, cwd);
  }

  get settings(): Settings {
    return this.current;
  }

  get env(): EnvFiles {
    return this.envFiles;
  }

  /** Settings the arbiter itself decided on (run the app alone). */
  override(changes: Partial<Settings>): void {
    this.current = { ...this.current, ...changes };
  }

  /** Re-reads what `request` asks for; on failure nothing changes. */
  async reread(request: ReloadRequest): Promise<Reread> {
    const result: Extract<Reread, { ok: true }> = { ok: true };
    const before = this.current;
    if (request.rereadConfig && this.readConfig) {
      try {
        const { settings, hooks } = await this.readConfig();
        if (settings.bind.join() !== this.current.bind.join()) result.bindChanged = true;
        if (settings.workers !== this.current.workers) result.workers = settings.workers;
        // The APP and the sockets are the arbiter's for its whole life.
        this.current = { ...settings, bind: this.current.bind, app: this.current.app };
        result.hooks = hooks;
      } catch (error) {
        return { ok: false, error: { message: (error as Error).message } };
      }
    }
    const touched = request.files?.some((file) => this.envFiles.files.includes(file));
    if (touched || request.rereadConfig) {
      try {
        const next = readEnvFiles(this.current.envFile, this.cwd);
        const changed = changedNames(this.envFiles.vars, next.vars);
        this.envFiles = next;
        if (changed.length > 0) result.env = changed;
      } catch (error) {
        this.current = before;
        return { ok: false, error: { message: (error as Error).message } };
      }
    }
    return result;
  }
}
