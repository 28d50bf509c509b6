/**
 * Tells the arbiter when a debugger stops a worker at a breakpoint and when it lets it go, so
 * that a paused worker's heartbeat, boot and stop deadlines wait instead of killing it under
 * the developer. It watches js-debug's sessions (type `pwa-node`) and the Python Debugger's
 * (`debugpy`): for js-debug, the session that reports
 * `stopped`/`continued` is one js-debug nests under ours, so the worker is found by walking up
 * to the session that carries our marker.
 */
import * as vscode from 'vscode';
import type { ServerManager } from '../server/server-manager';
import type { WorkerMarker } from './attach-configuration';
import { pausedBy, type DapMessage } from './pause-state';
import { markerOf } from './worker-attacher';

export function trackPauses(manager: ServerManager): vscode.Disposable {
  const tell = (marker: WorkerMarker, paused: boolean) => {
    const session = manager.sessions().find((s) => s.folder.uri.toString() === marker.folder);
    session?.process.command({ type: 'debugger', pid: marker.pid, paused });
  };
  const factory: vscode.DebugAdapterTrackerFactory = {
    createDebugAdapterTracker(session) {
      const marker = markerOf(session);
      if (!marker) return undefined; // not ours: the user's own Node sessions are left alone
      return {
        onDidSendMessage(message: DapMessage) {
          const paused = pausedBy(message);
          if (paused !== undefined) tell(marker, paused);
        },
        // A debugger that detaches lets the worker run again.
        onWillStopSession: () => tell(marker, false),
      };
    },
  };
  // js-debug for Node workers, the Python Debugger for Python ones: both speak DAP's events.
  return vscode.Disposable.from(
    ...['pwa-node', 'debugpy'].map((type) => vscode.debug.registerDebugAdapterTrackerFactory(type, factory)),
  );
}
