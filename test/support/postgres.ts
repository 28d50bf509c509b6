/**
 * A real PostgreSQL (Debian's postgresql-15) for the tests whose apps use one: a cluster made by
 * initdb in a temporary folder, served on a free loopback port and a socket in that folder, as
 * an unprivileged user (postgres refuses to run as root), and stopped (fast shutdown, which
 * waits for its backends) and reaped when the test ends. `sessions(db)` asks pg_stat_activity
 * how many client sessions a database has, which is what "the app closed its connections" means.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const BIN = '/usr/lib/postgresql/15/bin';
const DEADLINE_MS = 20_000;
const USER = 'arbiter-postgres';
const run = promisify(execFile);

/** Why the PostgreSQL tests cannot run here, or false. */
export const noPostgres = !existsSync(join(BIN, 'postgres'))
  ? `${BIN}/postgres is not installed (apt install postgresql-15)`
  : process.getuid?.() !== 0
    ? 'needs root, to run postgres as a user of its own'
    : false;

export type Postgres = {
  port: number;
  /** libpq's variables for a client of database `db`. */
  env: (db: string) => NodeJS.ProcessEnv;
  url: (db: string) => string;
  createDatabase: (db: string) => Promise<void>;
  /** Client sessions of `db` now (pg_stat_activity), the asking one not counted. */
  sessions: (db: string) => Promise<number>;
  /**
   * Asks until `db` has `count` sessions or the deadline passes; returns the last count. A
   * backend ends a moment after its client's socket closes, and nothing reports that moment.
   */
  waitSessions: (db: string, count: number, deadlineMs: number) => Promise<number>;
};

/** The unprivileged user postgres runs as, created once. */
function postgresUser(): { uid: number; gid: number } {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  const id = (flag: string) => Number(spawnSync('id', [flag, USER], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPostgres(t: { after: (fn: () => Promise<void>) => void }): Promise<Postgres> {
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-pg-'));
  let stop = async () => {};
  // One hook, so that the folder goes only once the server that writes there has stopped.
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const initdb = spawnSync(
    join(BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { uid: user.uid, gid: user.gid, encoding: 'utf8', cwd: dir },
  );
  if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr}`);
  const port = await freePort();
  const child = spawn(
    join(BIN, 'postgres'),
    ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off'],
    { uid: user.uid, gid: user.gid, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT'); // fast shutdown: backends end, then the postmaster
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  };
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`postgres not ready:\n${output}`)), DEADLINE_MS);
    child.once('error', reject);
    child.once('exit', () => reject(new Error(`postgres exited:\n${output}`)));
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  const psql = async (sql: string, db = 'postgres') =>
    (
      await run(
        join(BIN, 'psql'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-tAc', sql],
        {
          timeout: DEADLINE_MS,
        },
      )
    ).stdout.trim();
  const sessions = async (db: string) =>
    Number(
      await psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`),
    );
  return {
    port,
    env: (db) => ({ PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGDATABASE: db }),
    url: (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`,
    createDatabase: async (db) => void (await psql(`CREATE DATABASE "${db}"`)),
    sessions,
    waitSessions: async (db, count, deadlineMs) => {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const now = await sessions(db);
        if (now === count || Date.now() > deadline) return now;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
