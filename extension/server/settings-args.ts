/** The extension's settings as the runner's command-line options (unset ones are left out). */
/** Where settings come from: the folder's `arbiter.*` configuration, or a launch configuration over it. */
export type SettingsSource = { get<T>(key: string): T | undefined };

/** `bind: false` leaves the bind address out, for a caller that binds its own. */
export function settingsArgs(config: SettingsSource, { bind: withBind = true } = {}): string[] {
  const args: string[] = [];
  const value = <T>(key: string) => config.get<T>(key);
  const bind = value<string>('bind');
  if (bind && withBind) args.push('--bind', bind);
  const workers = value<number>('workers');
  if (workers) args.push('--workers', String(workers));
  const graceful = value<number>('gracefulTimeout');
  if (graceful !== undefined && graceful !== null) args.push('--graceful-timeout', String(graceful));
  const timeout = value<number>('timeout');
  if (timeout !== undefined && timeout !== null) args.push('--timeout', String(timeout));
  for (const glob of value<string[]>('watch') ?? []) args.push('--watch', glob);
  for (const glob of value<string[]>('ignore') ?? []) args.push('--ignore', glob);
  return args;
}
