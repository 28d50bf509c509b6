/**
 * The same extension tests through @vscode/test-electron, for machines with a desktop VS Code:
 * the one named by ARBITER_VSCODE_EXECUTABLE, else one it downloads (which needs the internet —
 * this project's CI machine has none, so there the tests run in code-server, run-vscode-tests.ts).
 * Opens a copy of the fixture workspace; exits non-zero on any failure.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

const ROOT = resolve(__dirname, '../..');

async function main(): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'arbiter-electron-'));
  const workspace = join(scratch, 'workspace');
  cpSync(join(ROOT, 'test/fixtures/vscode-workspace'), workspace, { recursive: true });
  const executable = process.env.ARBITER_VSCODE_EXECUTABLE;
  try {
    return await runTests({
      ...(executable ? { vscodeExecutablePath: executable } : {}),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out/test/vscode/index.js'),
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        `--user-data-dir=${join(scratch, 'user-data')}`,
      ],
    });
  } catch (error) {
    console.error(`the VS Code tests could not run: ${(error as Error).message ?? String(error)}`);
    return 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

void main().then((code) => process.exit(code));
