/**
 * The attach configuration for one worker, decided here and nowhere else: js-debug (`node`) on
 * V8's inspector for Node workers, the Python Debugger's `debugpy` on a worker's debugpy
 * (`tcp://`) for Python ones. Pure (no `vscode`), so that tests check its output and hand it to
 * a real debug adapter as VS Code would.
 */

/** How long a worker gets to report its inspector, and js-debug to attach to it. */
export const INSPECTOR_DEADLINE_MS = 10_000;

/** Put on each worker session's configuration: which server and worker it debugs. */
export type WorkerMarker = { folder: string; pid: number; id: number; generation: number };
export const MARKER_KEY = '__arbiterWorker';

/** Where a worker's debugger listens: V8's inspector (Node), or debugpy (`tcp://`, Python). */
export type Inspector = { port: number; url?: string };

/** A debug configuration, as `vscode.debug.startDebugging` takes it. */
export type AttachConfiguration = { type: string; request: 'attach'; name: string; [key: string]: unknown };

/** Whether the worker's debugger is debugpy (a Python worker), which needs the Python Debugger. */
export function isDebugpy({ url }: Inspector): boolean {
  return url?.startsWith('tcp://') ?? false;
}

export function attachConfiguration(
  folder: string,
  worker: { pid: number; id: number; generation: number },
  inspector: Inspector,
  extensionPath: string,
): AttachConfiguration {
  const marker: WorkerMarker = { folder, ...worker };
  const name = `worker ${worker.id} · pid ${worker.pid} (generation ${worker.generation})`;
  if (isDebugpy(inspector)) {
    return {
      type: 'debugpy',
      request: 'attach',
      name,
      connect: { host: '127.0.0.1', port: inspector.port },
      justMyCode: true,
      [MARKER_KEY]: marker,
    };
  }
  return {
    type: 'node',
    request: 'attach',
    name,
    address: '127.0.0.1', // the inspector listens there only; `localhost` may resolve to ::1
    port: inspector.port,
    restart: false, // a worker that exits is gone: never reconnect
    autoAttachChildProcesses: false, // js-debug would otherwise rewrite NODE_OPTIONS in the worker
    attachExistingChildren: false,
    continueOnAttach: true,
    timeout: INSPECTOR_DEADLINE_MS,
    // TypeScript apps run from per-generation bundles under node_modules/.cache/arbiter, whose
    // maps js-debug's default (!**/node_modules/**) would refuse: let every map resolve.
    resolveSourceMapLocations: null,
    skipFiles: ['<node_internals>/**', `${extensionPath}/out/runner/**`],
    [MARKER_KEY]: marker,
  };
}
