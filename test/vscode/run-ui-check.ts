/**
 * The UI check: what users install is what is tested, through the workbench they see. Installs
 * the packaged .vsix (npm run package) into a fresh code-server, opens a workspace in headless
 * Chromium and, through the DOM only: runs "Arbiter: Start Server" from the command palette,
 * waits for the Workers view to show two ready workers (checked against `ps`), saves a file on
 * disk and follows the reload (new generation booting, old one draining with its countdown,
 * shutdown hooks finishing), opens the Timeline webview on that reload and on a killed worker
 * and reads its DOM (in a light and a dark theme), then "Arbiter: Stop Server" and no process
 * left. Screenshots of
 * each step go to .cache/screenshots (the README's come from there). Prints `N passed, N failed`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import {
  installVsix,
  launchChromium,
  leftBehind,
  missingTools,
  ROOT,
  startCodeServer,
  type CodeServer,
} from './code-server';

// What `npm run package` builds for this machine.
const VSIX = join(ROOT, `.cache/arbiter-${process.platform}-${process.arch}.vsix`);
const FIXTURE = join(ROOT, 'test/fixtures/vscode-ui-workspace');
const SHOTS = join(ROOT, '.cache/screenshots');
const STEP_DEADLINE_MS = 30_000;

type Step = [string, (ui: Ui) => Promise<void>];

/** The page's own global, for a function that runs there (this file has no DOM types). */
declare function getComputedStyle(element: unknown): { backgroundColor: string };

class Ui {
  constructor(
    readonly page: Page,
    readonly workspace: string,
  ) {}

  /** The Workers view's pane. */
  get workers(): Locator {
    return this.page.locator('.pane', {
      has: this.page.locator('.pane-header', { hasText: /^\s*Workers/ }),
    });
  }

  /**
   * The timeline webview's page: VS Code puts a webview's content in an iframe inside an iframe.
   * The visible one: a closed webview's frame may linger in the DOM a while, hidden.
   */
  get timeline(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
  }

  statusBar(text: string): Locator {
    return this.page.locator('.statusbar-item', { hasText: text });
  }

  row(text: string | RegExp): Locator {
    return this.workers.locator('.monaco-list-row', { hasText: text });
  }

  /**
   * Runs a command from the palette, as a user types it. The palette lists the commands known
   * when it opens, and a just-opened workbench may not know the extension's yet: then it is
   * closed and opened again, until the deadline.
   */
  async command(title: string): Promise<void> {
    const deadline = Date.now() + STEP_DEADLINE_MS;
    const input = this.page.locator('.quick-input-widget input');
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    for (;;) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: STEP_DEADLINE_MS });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ timeout: 3_000 });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await this.page.keyboard.press('Escape');
      }
    }
    await this.page.keyboard.press('Enter');
  }

  /** Picks a colour theme as a user does: the palette, then the theme's name. */
  async theme(name: string): Promise<void> {
    // Not command(): Enter there takes the palette's first row, which may be the marketplace's.
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.fill('>Preferences: Color Theme');
    await this.page
      .locator('.quick-input-list .monaco-list-row', {
        has: this.page.locator('.label-name', { hasText: /^Preferences: Color Theme$/ }),
      })
      .click({ timeout: STEP_DEADLINE_MS });
    await input.fill(name);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: STEP_DEADLINE_MS });
  }

  /**
   * Clicks a row's inline action, shown while the mouse is over the row. A refresh of the tree
   * (every second while a worker boots) re-renders the row under the mouse: then hover again.
   */
  /**
   * Clicks a row's inline action until `effect` shows. A row that redraws under the pointer (a
   * draining generation's countdown redraws it every 100 ms) can swallow a click that Playwright
   * reports as done: the effect, not the click, says whether it happened.
   */
  async clickInline(row: Locator, label: string, effect: Locator): Promise<void> {
    const deadline = Date.now() + STEP_DEADLINE_MS;
    for (;;) {
      try {
        await row.hover({ timeout: 2_000 });
        await row.locator(`.action-label[aria-label="${label}"]`).click({ timeout: 2_000 });
        await effect.waitFor({ timeout: 3_000 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }

  /**
   * Picks `label` from the row's context menu until `effect` shows. Like an inline action, a
   * menu item's click can be lost while the tree redraws under the menu (the rows' uptimes tick):
   * the menu is closed and opened again for another try.
   */
  async clickContextMenu(row: Locator, label: string, effect: Locator): Promise<void> {
    const deadline = Date.now() + STEP_DEADLINE_MS;
    for (;;) {
      try {
        await row.click({ button: 'right', timeout: 2_000 });
        await this.page.locator('.context-view .action-item', { hasText: label }).click({ timeout: 2_000 });
        await effect.waitFor({ timeout: 3_000 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /** Drags the side bar's edge to `width` px, so the rows' descriptions show whole. */
  async widenSideBar(width: number): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box) throw new Error('no side bar');
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width + 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 5 });
    await this.page.mouse.up();
  }

  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: join(SHOTS, `${name}.png`) });
  }

  /** The pids of the worker rows whose text matches. */
  async pids(text: RegExp): Promise<number[]> {
    const texts = await this.row(text).allInnerTexts();
    return texts.map((t) => Number(/pid (\d+)/.exec(t)?.[1])).filter((pid) => pid > 0);
  }
}

/** The parent pid and command line of a process, from `ps`. */
function ps(pid: number): { ppid: number; args: string } | undefined {
  try {
    const out = execFileSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const [, ppid, args] = /^(\d+)\s+(.*)$/.exec(out) ?? [];
    return ppid ? { ppid: Number(ppid), args: args! } : undefined;
  } catch {
    return undefined;
  }
}

let firstPids: number[] = [];

/** Rewrites the app's VERSION on disk, as an editor's save does. */
function saveVersion(workspace: string, version: string): void {
  const file = join(workspace, 'server.js');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(/const VERSION = '[^']*'/, `const VERSION = '${version}'`),
  );
}

const READY = /worker \d+ · pid \d+\s*ready · up/;

const steps: Step[] = [
  [
    'the palette runs "Arbiter: Start Server", asks which file is the app, and the Workers view shows 2 ready workers that ps knows',
    async (ui) => {
      await ui.command('Arbiter: Start Server');
      const pick = ui.page.locator('.quick-input-list .monaco-list-row', { hasText: 'server.js' });
      await pick.waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.page.locator('.quick-input-list .monaco-list-row', { hasText: 'seed.js' }).waitFor();
      await pick.click();
      await ui.workers.waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.widenSideBar(620);
      await ui.row(READY).nth(1).waitFor({ timeout: STEP_DEADLINE_MS });
      firstPids = await ui.pids(READY);
      if (firstPids.length !== 2) throw new Error(`2 ready rows expected, saw pids ${firstPids.join(', ')}`);
      for (const pid of firstPids) {
        const parent = ps(ps(pid)?.ppid ?? 0);
        if (!parent?.args.includes('runner/cli.js'))
          throw new Error(`pid ${pid} is not a worker of an arbiter (parent: ${parent?.args ?? 'none'})`);
      }
      await ui.row(/running · generation 1 · 2\/2 workers/).waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.statusBar('2/2 · gen 1').waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.shot('1-serving');
    },
  ],
  [
    'a save on disk: the tree shows the new generation booting while the old one serves',
    async (ui) => {
      saveVersion(ui.workspace, 'v2');
      await ui.row(/generation 2 ← file change \(server\.js\)/).waitFor({ timeout: STEP_DEADLINE_MS });
      await ui
        .row(/worker \d+ · pid \d+\s*booting/)
        .first()
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.shot('2-reload');
    },
  ],
  [
    'the old generation drains with a countdown and its shutdown hooks run, then finish ok',
    async (ui) => {
      await ui.row(/draining · \d of 2 running · [\d.]+ s to the deadline/).waitFor({
        timeout: STEP_DEADLINE_MS,
      });
      await ui
        .row(/close db pool\s*running for/)
        .first()
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.shot('3-drain');
      await ui
        .row(/close db pool\s*ok in 4\.\d s/)
        .nth(1)
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.row(/generation 1\s*retired · 0 of 2 running/).waitFor({ timeout: STEP_DEADLINE_MS });
      const running = firstPids.filter((pid) => ps(pid));
      if (running.length) throw new Error(`the old workers still run: ${running.join(', ')}`);
      await ui.statusBar('2/2 · gen 2').waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.shot('4-retired');
    },
  ],
  [
    '"Timeline" on the reload row: a webview draws both generations (lanes, SIGTERM via the control channel, the hooks ok, the takeover), themed, in light and dark',
    async (ui) => {
      const reload = ui.row(/generation 2 ← file change \(server\.js\)/);
      const title = ui.timeline.locator('h1', { hasText: 'shop-api: the reload to generation 2' });
      await ui.clickInline(reload, 'Timeline', title);
      const lanes = ui.timeline.locator('li.lane');
      await lanes.nth(3).waitFor({ timeout: STEP_DEADLINE_MS });
      const labels: string[] = [];
      for (let i = 0; i < (await lanes.count()); i++)
        labels.push((await lanes.nth(i).getAttribute('aria-label')) ?? '');
      const old = labels.filter((label) => /generation 1; /.test(label));
      const young = labels.filter((label) => /generation 2; /.test(label));
      if (old.length !== 2 || young.length !== 2) throw new Error(`lanes: ${labels.join(' | ')}`);
      for (const label of old)
        for (const part of [
          /SIGTERM via the control channel/,
          /hook close db pool: ok in 4\.\d s/,
          /draining for/,
          /exited: code 0/,
        ])
          if (!part.test(label)) throw new Error(`an old lane lacks ${part}: ${label}`);
      for (const label of young)
        if (!/ready for .*, still/.test(label)) throw new Error(`a new lane: ${label}`);
      const takeovers = await ui.timeline.locator('.track .takeover').count();
      if (takeovers !== 4) throw new Error(`${takeovers} takeover lines, one per lane expected`);
      const ready = ui.timeline.locator('.bar.state-ready').first();
      const colour = () => ready.evaluate((bar) => getComputedStyle(bar).backgroundColor);
      const light = await colour();
      if (!/^rgba?\(/.test(light) || /rgba\(0, 0, 0, 0\)/.test(light))
        throw new Error(`ready bar colour: ${light}`);
      await ui.shot('timeline-light');
      await ui.theme('Dark Modern');
      const deadline = Date.now() + STEP_DEADLINE_MS;
      while ((await colour()) === light)
        if (Date.now() > deadline) throw new Error('the timeline kept its colours in a dark theme');
        else await ui.page.waitForTimeout(100); // a poll of the page under a deadline: there is no theme event to wait on from here
      await ui.shot('timeline-dark');
      await ui.theme('Light Modern');
      await ui.command('View: Close All Editors');
      await title.waitFor({ state: 'detached', timeout: STEP_DEADLINE_MS });
    },
  ],
  [
    'Kill Now on a draining generation (the timeline drawing the cycle live first): its workers are killed, their hooks show as never finished, on the tree and on the timeline from a worker row',
    async (ui) => {
      // The timeline open from the palette before the save: it draws the cycle as it happens.
      await ui.command('Arbiter: Timeline');
      const whole = ui.timeline.locator('h1', { hasText: 'shop-api: every worker kept' });
      await whole.waitFor({ timeout: STEP_DEADLINE_MS });
      saveVersion(ui.workspace, 'v3');
      await ui.timeline
        .locator('li.lane', { hasText: 'gen 3' })
        .first()
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.timeline
        .locator('li.lane', { hasText: 'gen 2', has: ui.timeline.locator('.hook.outcome-running') })
        .nth(1)
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.shot('timeline-live');
      await ui.command('View: Close All Editors');
      await whole.waitFor({ state: 'detached', timeout: STEP_DEADLINE_MS });
      const draining = ui.row(/generation 2\s*draining/);
      await draining.waitFor({ timeout: STEP_DEADLINE_MS });
      // Both workers inside their long hook (it starts after a 300 ms one): what Kill Now cuts short.
      await ui
        .row(/close db pool\s*running for/)
        .nth(1)
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.clickInline(draining, 'Kill Now', ui.row(/SIGKILL ← Kill Now/).first());
      await ui
        .row(/close db pool\s*never finished: the worker was killed/)
        .nth(1)
        .waitFor({
          timeout: STEP_DEADLINE_MS,
        });
      await ui.row(/generation 2\s*retired · 0 of 2 running/).waitFor({ timeout: STEP_DEADLINE_MS });
      // The same kill on the timeline, opened from a killed worker's context menu.
      const title = ui.timeline.locator('h1', { hasText: /shop-api: generation 2 \(worker pid \d+\)/ });
      await ui.clickContextMenu(ui.row(/worker \d+ · pid \d+\s*killed/).first(), 'Timeline', title);
      const lanes = ui.timeline.locator('li.lane', { hasText: 'gen 2' });
      await lanes.nth(1).waitFor({ timeout: STEP_DEADLINE_MS });
      for (const lane of await lanes.all()) {
        const label = (await lane.getAttribute('aria-label')) ?? '';
        for (const part of [
          /SIGKILL[^;]*Kill Now/,
          /hook close db pool: never finished, the worker was killed/,
          /killed: by SIGKILL/,
        ])
          if (!part.test(label)) throw new Error(`a killed lane lacks ${part}: ${label}`);
      }
      await ui.shot('timeline-kill');
      await ui.command('View: Close All Editors');
      await title.waitFor({ state: 'detached', timeout: STEP_DEADLINE_MS });
    },
  ],
  [
    'Send Signal to Worker… from a worker context menu, and Kill Worker inline: each worker is replaced',
    async (ui) => {
      const [first, second] = await ui.pids(READY);
      if (!first || !second) throw new Error('2 ready workers expected');
      const killed = ui.row(new RegExp(`pid ${second}(?!\\d)\\s*killed`));
      await ui.clickInline(ui.row(new RegExp(`pid ${second}(?!\\d)`)), 'Kill Worker', killed);
      await ui.row(READY).nth(1).waitFor({ timeout: STEP_DEADLINE_MS });
      const sigterm = ui.page.locator('.quick-input-list .monaco-list-row', { hasText: 'SIGTERM' }).first();
      await ui.clickContextMenu(ui.row(new RegExp(`pid ${first}(?!\\d)`)), 'Send Signal to Worker…', sigterm);
      await sigterm.click();
      await ui
        .row(new RegExp(`pid ${first}(?!\\d)\\s*(exited|crashed)`))
        .waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.row(READY).nth(1).waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.statusBar('2/2 · gen 3').waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.shot('5-replaced');
      const now = await ui.pids(READY);
      if (now.includes(first) || now.includes(second)) throw new Error(`not replaced: ${now.join(', ')}`);
    },
  ],
  [
    'an arbiter killed from outside: one notification with its last words, the row says exited, no restart',
    async (ui) => {
      const [worker] = await ui.pids(READY);
      const arbiter = ps(worker ?? 0)?.ppid;
      if (!arbiter) throw new Error('no arbiter found');
      process.kill(arbiter, 'SIGKILL');
      await ui.row(/shop-api\s*exited/).waitFor({ timeout: STEP_DEADLINE_MS });
      // Whether it shows as a toast depends on the browser window's focus; the notification
      // centre (the bell) lists it either way.
      await ui.command('Notifications: Show Notifications');
      const notice = ui.page.locator('.notification-list-item', {
        hasText: 'the server for shop-api stopped (SIGKILL)',
      });
      await notice.waitFor({ timeout: STEP_DEADLINE_MS });
      await ui
        .row(/ended with the arbiter, which was killed by SIGKILL/)
        .first()
        .waitFor();
      if ((await ui.row(READY).count()) > 0) throw new Error('workers still shown as ready');
      await ui.shot('6-crashed');
      const left = await leftBehind(ui.workspace, 5_000);
      if (left.length) throw new Error(`left behind:\n${left.join('\n')}`);
      const notices = await notice.count();
      if (notices !== 1) throw new Error(`${notices} notifications`);
      await ui.command('Notifications: Clear All Notifications');
    },
  ],
  [
    'Start Server again: no question (the choice is remembered), then "Arbiter: Stop Server": exited with code 0, nothing left',
    async (ui) => {
      await ui.command('Arbiter: Start Server');
      await ui.row(/running · generation 1 · 2\/2 workers/).waitFor({ timeout: STEP_DEADLINE_MS });
      await ui.command('Arbiter: Stop Server');
      await ui.row(/exited \(code 0\)/).waitFor({ timeout: STEP_DEADLINE_MS });
      const left = await leftBehind(ui.workspace, 5_000);
      if (left.length) throw new Error(`left behind:\n${left.join('\n')}`);
      await ui.shot('7-stopped');
    },
  ],
];

async function main(): Promise<number> {
  const missing = missingTools() ?? (existsSync(VSIX) ? undefined : `${VSIX} is missing: npm run package`);
  if (missing) {
    console.error(missing);
    return 1;
  }
  mkdirSync(SHOTS, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'arbiter-ui-'));
  const workspace = join(scratch, 'shop-api');
  cpSync(FIXTURE, workspace, { recursive: true });
  let passed = 0;
  let failed = 0;
  let codeServer: CodeServer | undefined;
  const browser = await launchChromium();
  try {
    const installed = installVsix(scratch, VSIX);
    if (!/was successfully installed/.test(installed)) throw new Error(`installing the .vsix: ${installed}`);
    codeServer = await startCodeServer(scratch);
    const page = await browser.newPage({ viewport: { width: 1440, height: 800 } });
    await page.goto(`${codeServer.base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
    const ui = new Ui(page, workspace);
    for (const [name, step] of steps) {
      try {
        await step(ui);
        passed++;
        console.log(`ok - ui: ${name}`);
      } catch (error) {
        failed++;
        console.log(`not ok - ui: ${name}\n${(error as Error).message}`);
        await ui.shot(`failed-${passed + failed}`).catch(() => undefined);
        break; // each step stands on the one before
      }
    }
  } catch (error) {
    failed++;
    console.log(
      `not ok - ui: ${(error as Error).message}${codeServer ? `\n--- code-server output ---\n${codeServer.log()}` : ''}`,
    );
  } finally {
    await browser.close();
    await codeServer?.stop();
  }
  const left = await leftBehind(workspace);
  if (left.length > 0) {
    console.log(`not ok - ui: processes of the workspace left behind:\n${left.join('\n')}`);
  }
  // A step after a failure never ran: it counts as failed, not as passed.
  failed = Math.max(failed, steps.length - passed) + (left.length > 0 ? 1 : 0);
  console.log(`ui check: ${passed} passed, ${failed} failed (screenshots in ${SHOTS})`);
  rmSync(scratch, { recursive: true, force: true });
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
