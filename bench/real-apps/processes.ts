/**
 * The processes of one runner: each command in a process group of its own, its output passed on
 * line by line (where a hook's print is counted), and on stop the group and every descendant killed,
 * wherever they moved: `nest start --watch` and ts-node-dev start the app as a child that is
 * not always in the group of the tool, and a kill of the group alone could leave it serving.
 */
import { LineSplitter } from '../../runner/protocol/line-splitter';
import { processTree } from '../proc';
import { killGroup, spawnGroup } from '../reload-peers';

export type Command = { command: string; args: string[]; env?: NodeJS.ProcessEnv };

export type Group = {
  /** The leaders' pids, for the memory of their trees. */
  pids: number[];
  /** Resolves when any leader exits: the runner gave up. */
  exited: Promise<void>;
  output: () => string;
  stop: () => Promise<void>;
};

function killTree(pids: readonly number[]): void {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone already, or not a group leader
      }
    }
  }
}

/** Starts `commands` in `cwd`, each in its own group, each line of their output to `onLine`. */
export function startGroup(commands: readonly Command[], cwd: string, onLine: (line: string) => void): Group {
  const groups = commands.map(({ command, args, env }) => {
    const group = spawnGroup(command, args, cwd, env);
    for (const stream of [group.child.stdout, group.child.stderr]) {
      const lines = new LineSplitter(onLine);
      stream.on('data', (chunk: string) => lines.push(chunk));
    }
    return group;
  });
  return {
    pids: groups.map((group) => group.child.pid!).filter(Boolean),
    exited: Promise.race(groups.map((group) => group.exited)),
    output: () => groups.map((group) => group.output()).join('\n'),
    stop: async () => {
      const tree = groups.flatMap((group) => (group.child.pid ? processTree(group.child.pid) : []));
      await Promise.all(groups.map((group) => killGroup(group.child, group.exited)));
      killTree(tree);
    },
  };
}
