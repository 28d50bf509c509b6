/**
 * The worker's V8 inspector, opened only when asked (the editor's Attach Debugger, `--inspect`):
 * on 127.0.0.1 and a free port, never a fixed one — N workers never fight over 9229 — and
 * never on a public address.
 */
import type { WorkerMessage } from '../protocol/control';

type InspectorModule = typeof import('node:inspector');
let inspector: InspectorModule | undefined;

/** Opens it (or finds it open) and says where; an error if this Node has no inspector. */
export function openInspector(): Extract<WorkerMessage, { type: 'inspector' }> {
  try {
    // Loaded on demand: a Node built without the inspector throws here, not at start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    inspector ??= require('node:inspector') as InspectorModule;
    if (!inspector.url()) inspector.open(0, '127.0.0.1', false);
    const url = inspector.url();
    if (!url) return { type: 'inspector', error: 'the inspector did not open' };
    return { type: 'inspector', url, port: Number(new URL(url).port) };
  } catch (error) {
    return { type: 'inspector', error: (error as Error).message };
  }
}

/** The inspector's port while it is open: its sockets are the runtime's, not the app's. */
export function inspectorPort(): number | undefined {
  const url = inspector?.url();
  return url ? Number(new URL(url).port) : undefined;
}

/**
 * Before the process exits: with a debugger still connected, Node would wait for it to
 * disconnect ("Waiting for the debugger to disconnect…") and the exit would hang.
 */
export function closeInspector(): void {
  try {
    if (inspector?.url()) inspector.close();
  } catch {
    // exiting anyway
  }
}
