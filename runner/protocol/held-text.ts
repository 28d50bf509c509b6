/**
 * What a worker held, in words: one wording for the arbiter's log and the editor's tree, so a
 * pool the app never closed reads the same in both ("2 connections to PostgreSQL
 * 127.0.0.1:5432").
 */
import type { HeldResources } from './events';

type Connection = HeldResources['connections'][number];

export function connectionText(connection: Connection): string {
  const noun = connection.count === 1 ? 'connection' : 'connections';
  const service = connection.service ? `${connection.service} ` : '';
  return `${connection.count} ${noun} to ${service}${connection.peer}`;
}

/**
 * What in `held` keeps something outside the worker busy or the worker itself alive: connections,
 * sockets it listens on, child processes, threads that are not daemons. Open files are left out:
 * a log file open until the end is no leak.
 */
export function leftOpen(held: HeldResources): string[] {
  const threads = (held.threads ?? []).filter((thread) => !thread.daemon);
  return [
    ...held.connections.map(connectionText),
    ...held.listening.map((address) => `listening on ${address}`),
    ...held.children.map((child) => `child process ${child.pid} (${child.command})`),
    ...threads.map((thread) => `thread ${thread.name}`),
  ];
}
