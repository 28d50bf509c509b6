/**
 * The Arbiter view: servers → generations (newest first) → workers → the signals each got and
 * its shutdown hooks; and per server its reloads. A pure view of the sessions' models:
 * `getChildren` never prompts, context menus hang on `contextValue`. Refreshes are pushed by
 * the sessions and coalesced, so an event storm costs at most ~10 redraws a second.
 */
import * as vscode from 'vscode';
import type { GenerationRow, HookRow, ReloadRow, SignalRow, WorkerRow } from '../model/server-model';
import type { WorkerState } from '../../runner/protocol/events';
import type { ServerSession } from '../server/server-session';
import * as describe from './describe';

/** At most this often the tree redraws, however many events arrive. */
const REFRESH_MS = 100;
/** While something drains, the countdowns tick this often. */
const TICK_MS = 1000;

export type TreeNode =
  | { kind: 'server'; session: ServerSession }
  | { kind: 'generation'; session: ServerSession; row: GenerationRow }
  | { kind: 'worker'; session: ServerSession; worker: WorkerRow }
  | { kind: 'signal'; session: ServerSession; worker: WorkerRow; signal: SignalRow; index: number }
  | { kind: 'hook'; session: ServerSession; worker: WorkerRow; hook: HookRow; index: number }
  | { kind: 'held'; session: ServerSession; worker: WorkerRow; row: describe.HeldRow; index: number }
  | { kind: 'request'; session: ServerSession; worker: WorkerRow; row: describe.RequestRow; index: number }
  | { kind: 'stack'; session: ServerSession; worker: WorkerRow; row: describe.StackRow; index: number }
  | { kind: 'reloads'; session: ServerSession }
  | { kind: 'reload'; session: ServerSession; reload: ReloadRow };

const STATE_ICONS: Record<WorkerState, [string, string?]> = {
  booting: ['loading~spin'],
  ready: ['pass-filled', 'testing.iconPassed'],
  draining: ['watch', 'charts.yellow'],
  exited: ['circle-outline'],
  'boot-failed': ['error', 'testing.iconFailed'],
  crashed: ['bug', 'testing.iconFailed'],
  'timed-out': ['clock', 'testing.iconFailed'],
  killed: ['close', 'testing.iconFailed'],
};

const icon = ([id, color]: [string, string?]) =>
  new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);

const WARNING: [string, string] = ['warning', 'problemsWarningIcon.foreground'];

/** A row under a worker that says one thing: what it held, a request it served. */
function leaf(
  id: string,
  row: { label: string; description: string },
  contextValue: string,
  iconOf: [string, string?],
): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
  item.id = id;
  item.description = row.description;
  item.tooltip = `${row.label}: ${row.description}`;
  item.iconPath = icon(iconOf);
  item.contextValue = contextValue;
  return item;
}

export class WorkerTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private pending: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly sessions: () => ServerSession[]) {}

  /** Something changed: redraw soon, once for however many changes come meanwhile. */
  schedule(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.changed.fire(undefined);
      this.tickWhileDraining();
    }, REFRESH_MS);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const now = Date.now();
    const root = node.session.folder.uri.fsPath;
    const base = `${root}#${node.session.process.pid ?? 0}`;
    const None = vscode.TreeItemCollapsibleState.None;
    const Expanded = vscode.TreeItemCollapsibleState.Expanded;
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'server': {
        const item = new vscode.TreeItem(node.session.folder.name, Expanded);
        item.id = base;
        item.description = describe.serverDescription(node.session.model, node.session.url);
        item.contextValue = node.session.model.phase === 'exited' ? 'server-exited' : 'server-running';
        item.iconPath = new vscode.ThemeIcon('server-process');
        return item;
      }
      case 'generation': {
        const status = node.session.model.statusOf(node.row);
        const item = new vscode.TreeItem(
          `generation ${node.row.generation}`,
          status === 'retired' || status === 'failed' ? Collapsed : Expanded,
        );
        item.id = `${base}/g${node.row.generation}`;
        item.description = describe.generationDescription(node.session.model, node.row, now);
        item.contextValue = `generation-${status}`;
        item.iconPath = new vscode.ThemeIcon(status === 'serving' ? 'layers-active' : 'layers');
        return item;
      }
      case 'worker': {
        const { worker } = node;
        const hasChildren =
          worker.signals.length +
            worker.hooks.length +
            describe.heldRows(worker).length +
            describe.requestRows(worker, now).length +
            describe.stackRows(worker).length >
          0;
        const item = new vscode.TreeItem(describe.workerLabel(worker), hasChildren ? Expanded : None);
        // VS Code keeps an id's first collapsible state: a worker that had no rows under it
        // would stay closed when its first signal and hooks arrive, so it gets a new id then.
        item.id = `${base}/w${worker.pid}${hasChildren ? '+' : ''}`;
        item.description = describe.workerDescription(worker, now);
        item.tooltip = `${worker.state}: ${worker.reason}`;
        item.iconPath = icon(
          worker.paused && !worker.exit
            ? ['debug-pause', 'debugIcon.pauseForeground']
            : STATE_ICONS[worker.state],
        );
        item.contextValue = worker.exit
          ? 'worker-gone'
          : worker.state === 'draining'
            ? 'worker-draining'
            : 'worker-live';
        return item;
      }
      case 'signal': {
        const { signal } = node;
        const item = new vscode.TreeItem(`${signal.signal} ← ${signal.reason}`, None);
        item.id = `${base}/w${node.worker.pid}/s${node.index}`;
        item.description = `${new Date(signal.ts).toLocaleTimeString()}${signal.via === 'message' ? ' · via control channel' : ''}`;
        item.iconPath = new vscode.ThemeIcon('zap');
        item.contextValue = 'signal';
        return item;
      }
      case 'hook': {
        const { hook } = node;
        const item = new vscode.TreeItem(hook.name, None);
        item.id = `${base}/w${node.worker.pid}/h${node.index}`;
        item.description = describe.hookDescription(hook, now);
        item.iconPath = icon(
          hook.outcome === 'ok'
            ? ['check', 'testing.iconPassed']
            : hook.outcome === 'running'
              ? ['sync~spin']
              : ['warning', 'testing.iconFailed'],
        );
        item.contextValue = `hook-${hook.outcome}`;
        return item;
      }
      case 'held': {
        const { row } = node;
        return leaf(
          `${base}/w${node.worker.pid}/held${node.index}`,
          row,
          row.leak ? 'held-leak' : 'held',
          row.leak ? WARNING : ['plug'],
        );
      }
      case 'stack': {
        const { row } = node;
        const item = new vscode.TreeItem(row.label, None);
        item.id = `${base}/w${node.worker.pid}/stack${node.index}`;
        item.description = row.description;
        item.tooltip = row.tooltip;
        item.iconPath = icon(
          node.index === 0
            ? ['debug-stackframe', 'problemsWarningIcon.foreground']
            : ['debug-stackframe-dot'],
        );
        item.contextValue = 'stack-frame';
        return item;
      }
      case 'request': {
        const { row } = node;
        return leaf(
          `${base}/w${node.worker.pid}/req${node.index}`,
          row,
          row.cut ? 'request-cut' : 'request',
          row.cut ? WARNING : ['watch'],
        );
      }
      case 'reloads': {
        const count = node.session.model.reloads.length;
        const item = new vscode.TreeItem('reloads', count ? Expanded : None);
        item.id = `${base}/reloads${count ? '+' : ''}`;
        item.description = `${count}`;
        item.iconPath = new vscode.ThemeIcon('history');
        return item;
      }
      case 'reload': {
        const { reload } = node;
        const item = new vscode.TreeItem(describe.reloadLabel(reload, root), None);
        item.id = `${base}/r${reload.generation}`;
        item.description = describe.reloadDescription(reload, now);
        item.iconPath = icon(
          reload.phase === 'failed'
            ? ['error', 'testing.iconFailed']
            : reload.phase === 'completed'
              ? ['debug-restart']
              : reload.phase === 'superseded'
                ? ['debug-step-over']
                : ['loading~spin'],
        );
        item.contextValue = `reload-${reload.phase}`;
        if (reload.error?.file) {
          item.command = {
            command: 'vscode.open',
            title: 'Open',
            arguments: [
              vscode.Uri.file(reload.error.file),
              {
                selection: new vscode.Range((reload.error.line ?? 1) - 1, 0, (reload.error.line ?? 1) - 1, 0),
              },
            ],
          };
        }
        return item;
      }
    }
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) return this.sessions().map((session) => ({ kind: 'server', session }));
    const { session } = node;
    switch (node.kind) {
      case 'server':
        return [
          ...session.model.generationList().map((row): TreeNode => ({ kind: 'generation', session, row })),
          { kind: 'reloads', session },
        ];
      case 'generation':
        return node.row.workers.map((worker): TreeNode => ({ kind: 'worker', session, worker }));
      case 'worker':
        return [
          ...node.worker.signals.map((signal, index): TreeNode => ({
            kind: 'signal',
            session,
            worker: node.worker,
            signal,
            index,
          })),
          ...node.worker.hooks.map((hook, index): TreeNode => ({
            kind: 'hook',
            session,
            worker: node.worker,
            hook,
            index,
          })),
          ...describe.requestRows(node.worker, Date.now()).map((row, index): TreeNode => ({
            kind: 'request',
            session,
            worker: node.worker,
            row,
            index,
          })),
          ...describe.heldRows(node.worker).map((row, index): TreeNode => ({
            kind: 'held',
            session,
            worker: node.worker,
            row,
            index,
          })),
          ...describe.stackRows(node.worker).map((row, index): TreeNode => ({
            kind: 'stack',
            session,
            worker: node.worker,
            row,
            index,
          })),
        ];
      case 'reloads':
        return session.model.reloads.map((reload): TreeNode => ({ kind: 'reload', session, reload }));
      case 'hook':
      case 'held':
      case 'request':
      case 'stack':
      case 'reload':
      case 'signal':
        return []; // leaves
    }
  }

  /** Countdowns and "running for" durations move on their own while anything drains or runs. */
  private tickWhileDraining(): void {
    const busy = this.sessions().some((session) =>
      session.model.liveWorkers().some((worker) => worker.state === 'draining' || worker.state === 'booting'),
    );
    if (busy && !this.ticker) {
      this.ticker = setInterval(() => this.schedule(), TICK_MS);
    } else if (!busy && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  dispose(): void {
    clearTimeout(this.pending);
    clearInterval(this.ticker);
    this.changed.dispose();
  }
}
