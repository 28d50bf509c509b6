/**
 * What activating the extension costs, in a real VS Code (code-server, as the extension tests
 * run it): each sample is a fresh code-server and browser, whose extension host activates the
 * extension once (test/vscode/activation-entry.ts). Two figures per sample: the extension's own
 * cost (evaluating its bundle + its `activate`), and VS Code's whole `activate()` call (which
 * adds VS Code's loading of the module). Skipped, with a note, where code-server is not installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, missingTools, ROOT, startCodeServer } from '../test/vscode/code-server';

const ENTRY = join(ROOT, 'out/test/vscode/activation.js');
const SAMPLE_DEADLINE_MS = 60_000;
/** The budget for the extension's own activation. */
const TARGET_MS = 50;

export type ActivationSample = { modulesMs: number; activateMs: number; activateCallMs: number };
export type ActivationFigures = { samples: ActivationSample[] } | { skipped: string };

async function sample(): Promise<ActivationSample> {
  const scratch = mkdtempSync(join(tmpdir(), 'arbiter-activation-'));
  const results = join(scratch, 'results.jsonl');
  const browser = await launchChromium();
  const codeServer = await startCodeServer(scratch, { ARBITER_VSCODE_RESULTS: results }).catch(
    async (error: unknown) => {
      await browser.close();
      throw error;
    },
  );
  try {
    const authority = new URL(codeServer.base).host;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${ROOT}`],
      ['extensionTestsPath', `vscode-remote://${authority}${ENTRY}`],
    ];
    const page = await browser.newPage();
    const done = new Promise<number>((resolve) => void page.exposeFunction('codeAutomationExit', resolve));
    await page.goto(
      `${codeServer.base}/?folder=${encodeURIComponent(scratch)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no activation within 60 s')), SAMPLE_DEADLINE_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (code !== 0 || !existsSync(results)) throw new Error(`the activation entry failed (${code})`);
    return JSON.parse(readFileSync(results, 'utf8').trim()) as ActivationSample;
  } finally {
    await browser.close();
    await codeServer.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function measureActivation(
  runs: number,
  log: (message: string) => void,
): Promise<ActivationFigures> {
  const missing = missingTools() ?? (existsSync(ENTRY) ? undefined : `${ENTRY} is missing`);
  if (missing) return { skipped: missing };
  const samples: ActivationSample[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await sample());
    log(`activation ${i + 1}/${runs}: ${JSON.stringify(samples.at(-1))}`);
  }
  return { samples };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export function renderActivation(figures: ActivationFigures): string {
  if ('skipped' in figures) return `## Extension activation\n\nNot measured: ${figures.skipped}.\n`;
  const own = figures.samples.map((s) => s.modulesMs + s.activateMs);
  const rows = [
    ['the extension itself: evaluating its bundle + `activate`', own],
    ['… of which evaluating the bundle', figures.samples.map((s) => s.modulesMs)],
    ['… of which `activate`', figures.samples.map((s) => s.activateMs)],
    [
      "VS Code's whole `activate()` call (adds loading the module)",
      figures.samples.map((s) => s.activateCallMs),
    ],
  ] as const;
  const table = rows
    .map(
      ([name, values]) =>
        `| ${name} | ${median([...values]).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`,
    )
    .join('\n');
  const met = median(own) < TARGET_MS ? 'met' : '**not met**';
  return `## Extension activation

${figures.samples.length} fresh code-server extension hosts (VS Code's own extension host process,
Node 24), one activation each. Target: the extension's own cost under ${TARGET_MS} ms (median): ${met}.

| ms | median | max |
|---|---:|---:|
${table}
`;
}
