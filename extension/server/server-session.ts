/**
 * One server: the arbiter started for a workspace folder, the model of what it does, and the
 * output it wrote (kept so that a terminal opened later shows it from the start).
 */
import * as vscode from 'vscode';
import type { ArbiterEvent } from '../../runner/protocol/events';
import { ServerModel } from '../model/server-model';
import { ArbiterProcess, type ArbiterExit } from './arbiter-process';

/** Output kept for a terminal opened late, in characters. */
const OUTPUT_KEPT = 200_000;

export type SessionOptions = {
  folder: vscode.WorkspaceFolder;
  node: string;
  cli: string;
  args: string[];
  /** Absent when the config file names the app. */
  app?: string;
  /** Added to the server's environment (a launch configuration's `env`). */
  env?: Record<string, string>;
};

export class ServerSession implements vscode.Disposable {
  readonly model = new ServerModel();
  readonly process: ArbiterProcess;
  private output = '';
  private readonly changed = new vscode.EventEmitter<ServerSession>();
  private readonly event = new vscode.EventEmitter<ArbiterEvent>();
  private readonly wrote = new vscode.EventEmitter<string>();
  /** Fires (coalescing is the listener's business) whenever the model changed. */
  readonly onDidChange = this.changed.event;
  readonly onEvent = this.event.event;
  readonly onOutput = this.wrote.event;
  readonly exited: Promise<ArbiterExit>;
  readonly badLines: string[] = [];
  /** The user asked it to stop (Stop, Force Stop, Ctrl+C in its terminal): its exit is no surprise. */
  stopAsked = false;

  constructor(readonly options: SessionOptions) {
    this.process = new ArbiterProcess({
      node: options.node,
      cli: options.cli,
      cwd: options.folder.uri.fsPath,
      args: [...options.args, ...(options.app ? [options.app] : [])],
      ...(options.env ? { env: options.env } : {}),
      onEvent: (event) => {
        this.model.apply(event);
        this.event.fire(event);
        this.changed.fire(this);
      },
      onBadLine: (error) => {
        if (this.badLines.push(error) > 20) this.badLines.shift();
      },
      onOutput: (text) => {
        this.output = (this.output + text).slice(-OUTPUT_KEPT);
        this.wrote.fire(text);
      },
    });
    this.exited = this.process.exited.then((exit) => {
      this.model.arbiterGone(
        exit.error
          ? `could not start: ${exit.error.message}`
          : exit.signal
            ? `was killed by ${exit.signal}`
            : `exited with code ${exit.code}`,
      );
      this.changed.fire(this);
      return exit;
    });
  }

  get folder(): vscode.WorkspaceFolder {
    return this.options.folder;
  }

  /** Everything the arbiter wrote so far (the last OUTPUT_KEPT characters). */
  get outputSoFar(): string {
    return this.output;
  }

  /** The first HTTP address it listens on. */
  get url(): string | undefined {
    const tcp = this.model.listeners.find((listener) => 'port' in listener);
    if (!tcp || !('port' in tcp)) return undefined;
    const host = tcp.host === '0.0.0.0' || tcp.host === '::' ? 'localhost' : tcp.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${tcp.port}/`;
  }

  /** Graceful stop (hooks run); resolves once the arbiter has exited. */
  async stop(): Promise<ArbiterExit> {
    this.stopAsked = true;
    this.process.signal('SIGTERM');
    return this.exited;
  }

  /** Kills the arbiter at once; its orphan reaper takes every worker down within half a second. */
  async forceStop(): Promise<ArbiterExit> {
    this.stopAsked = true;
    this.process.kill();
    return this.exited;
  }

  /** Ctrl+C, as a terminal sends it: the arbiter's ladder (graceful, quick, kill). */
  interrupt(): void {
    this.stopAsked = true;
    this.process.signal('SIGINT');
  }

  dispose(): void {
    this.changed.dispose();
    this.event.dispose();
    this.wrote.dispose();
  }
}
