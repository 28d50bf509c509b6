/**
 * Runs the extension's tests in a real VS Code: code-server (the VS Code server and workbench,
 * installed with the Node it needs by scripts/vscode-test-setup.sh into .cache/vscode) opened in
 * headless Chromium,
 * with this repository as the extension under development and out/test/vscode/index.js as the
 * test entry, which VS Code runs in its extension host. Prints the tests' lines and a final
 * `N passed, N failed`; exits non-zero on any failure; leaves no process behind — code-server
 * runs in its own process group, which is killed as a whole, and the workspace's servers are
 * looked for afterwards.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  leftBehind,
  launchChromium,
  missingTools,
  ROOT,
  startCodeServer,
  type CodeServer,
} from './code-server';
import { realApp } from '../support/real-apps';

const TEST_ENTRY = join(ROOT, 'out/test/vscode/index.js');
/** A multi-root workspace: api (most tests), web (an ES module app; Ctrl+C), storm (an event storm). */
const FIXTURE = join(ROOT, 'test/fixtures/vscode-workspace');
const TESTS_DEADLINE_MS = 240_000;

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing) {
    console.error(missing);
    return 1;
  }
  if (!existsSync(TEST_ENTRY)) {
    console.error(`${TEST_ENTRY} is missing: run npm run build first`);
    return 1;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'arbiter-vscode-'));
  const workspace = join(scratch, 'workspace');
  cpSync(FIXTURE, workspace, { recursive: true });
  // The official NestJS starter, installed, as a further folder: a breakpoint in its controller.
  const file = join(workspace, 'arbiter-tests.code-workspace');
  const folders = `"folders": [{ "path": ${JSON.stringify(realApp('nest'))}, "name": "nest" }, `;
  writeFileSync(file, readFileSync(file, 'utf8').replace('"folders": [', folders));
  const results = join(scratch, 'results.log');
  let code = 1;
  let codeServer: CodeServer | undefined;
  const browser = await launchChromium();
  try {
    codeServer = await startCodeServer(scratch, { ARBITER_VSCODE_RESULTS: results });
    const authority = new URL(codeServer.base).host;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${ROOT}`],
      ['extensionTestsPath', `vscode-remote://${authority}${TEST_ENTRY}`],
    ];
    const page = await browser.newPage();
    page.on('console', (message) => {
      const text = message.text();
      if (text.includes('[arbiter-test]')) console.log(text.replace(/^.*\[arbiter-test\] /, ''));
    });
    const done = new Promise<number>(
      (resolveDone) => void page.exposeFunction('codeAutomationExit', resolveDone),
    );
    await page.goto(
      `${codeServer.base}/?workspace=${encodeURIComponent(join(workspace, 'arbiter-tests.code-workspace'))}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the tests did not finish within ${TESTS_DEADLINE_MS} ms`)),
        TESTS_DEADLINE_MS,
      );
    });
    code = await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  } catch (error) {
    console.error(
      `${(error as Error).message}${codeServer ? `\n--- code-server output ---\n${codeServer.log()}` : ''}`,
    );
    code = 1;
  } finally {
    await browser.close();
    await codeServer?.stop();
  }
  const lines = existsSync(results) ? readFileSync(results, 'utf8') : '';
  if (!/\d+ passed, \d+ failed/.test(lines)) console.log('0 passed, 1 failed (the tests did not report)');
  // The extension's servers stop with the extension host (their stdin closes): give them their
  // graceful moment, then nothing of the workspace may run.
  const left = await leftBehind(workspace);
  if (left.length > 0) {
    console.log(`not ok - processes of the test workspace left behind:\n${left.join('\n')}`);
    code = 1;
  }
  rmSync(scratch, { recursive: true, force: true });
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
