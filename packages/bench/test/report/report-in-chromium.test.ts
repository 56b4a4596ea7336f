import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRuns } from '../../src/report/read-runs.js';
import { renderReportHtml } from '../../src/report/render-report.js';
import { syntheticEfficiency } from './synthetic-efficiency.js';
import { scratchDirectory, writeSyntheticRun, writeSyntheticSweep } from './synthetic-runs.js';

/** The few playwright-core calls used here (typed locally so the test compiles without the package). */
interface Box {
  width: number;
  height: number;
}
interface Locator {
  count(): Promise<number>;
  nth(index: number): Locator;
  isVisible(): Promise<boolean>;
  boundingBox(): Promise<Box | null>;
}
interface Page {
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'request', listener: (request: { url(): string }) => void): void;
  goto(url: string, options?: { waitUntil?: 'load' }): Promise<unknown>;
  locator(selector: string): Locator;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  evaluate<T>(expression: string): Promise<T>;
}
interface Browser {
  newPage(options?: { viewport?: Box; deviceScaleFactor?: number }): Promise<Page>;
  close(): Promise<void>;
}
interface PlaywrightCore {
  chromium: { launch(options: { executablePath: string; args: string[]; headless: boolean }): Promise<Browser> };
}

const CHROMIUM = process.env['RECIPE_KIT_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * playwright-core from this package's dependencies, or from RECIPE_KIT_PLAYWRIGHT_CORE (an npm
 * --prefix folder outside the repository, or the package folder itself) for trying it without installing.
 */
async function loadPlaywright(): Promise<PlaywrightCore | string> {
  const specifier = 'playwright-core';
  try {
    return (await import(specifier)) as PlaywrightCore;
  } catch {
    const location = process.env['RECIPE_KIT_PLAYWRIGHT_CORE'];
    if (!location) return 'playwright-core is not installed (add it as a devDependency, or set RECIPE_KIT_PLAYWRIGHT_CORE to an npm --prefix folder holding it)';
    try {
      const entry = createRequire(path.join(path.resolve(location), 'package.json')).resolve(specifier);
      const loaded = (await import(pathToFileURL(entry).href)) as PlaywrightCore & { default?: PlaywrightCore };
      return loaded.chromium ? loaded : (loaded.default as PlaywrightCore);
    } catch (error) {
      return `playwright-core not found via RECIPE_KIT_PLAYWRIGHT_CORE=${location}: ${(error as Error).message}`;
    }
  }
}

const playwright = await loadPlaywright();
const skipReason = !existsSync(CHROMIUM)
  ? `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set RECIPE_KIT_CHROMIUM)`
  : typeof playwright === 'string'
    ? playwright
    : null;
if (skipReason !== null) console.warn(`[report-in-chromium] skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)(`report in headless Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];
  const screenshots = path.join(os.tmpdir(), 'recipe-kit-report-screenshots');
  let reportUrl = '';

  beforeAll(async () => {
    const root = scratchDirectory();
    // As `recipe-kit compare` writes it: RECIPE's ablation rows, an editor skipped for a missing artefact, and inference time on a large random model.
    const ablations = [100, 1000].flatMap((edits) => ['recipe (w/o KS)', 'recipe (w/o CPT)'].map((editor, index) => writeSyntheticRun(root, { editor, edits, reliability: 0.8 - 0.2 * index, generality: 0.7 - 0.2 * index, locality: 0.9 })));
    const runs = await readRuns([...writeSyntheticSweep(root), ...ablations]);
    const file = path.join(root, 'report.html');
    writeFileSync(
      file,
      renderReportHtml(runs, {
        title: 'Lifelong editing: <script>alert(1)</script> & friends',
        generatedAt: new Date('2025-03-14T10:00:00Z'),
        skippedEditors: [{ editor: 'mend', reason: 'No trained MEND hypernetwork at models/m/mend.\n  → Run recipe-kit train-mend.' }],
        generalUnavailable: { squad2: 'the data directory is absent' },
        efficiency: syntheticEfficiency(),
        trainingCurves: [{ editor: 'malmen', directory: '/models/m/malmen', rows: [1, 2, 3].map((step) => ({ step: 10 * step, loss: 1 / step, edit: 1 / step, locality: 0.1, editAccuracy: 0.3 * step, localityAgreement: 0.9, seconds: 1, elapsed: step })) }],
      }),
    );
    reportUrl = pathToFileURL(file).href;
    browser = await (playwright as PlaywrightCore).chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(reportUrl, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads with no console errors, page errors or requests besides the page itself', () => {
    expect(problems).toEqual([]);
    expect(requests).toEqual([reportUrl]);
  });

  it('shows every table and every plot with a non-zero size', async () => {
    for (const selector of ['table[data-table="main"]', 'table[data-table="fine-grained"]', 'table[data-table="general"]', 'table[data-table="efficiency"]', 'table[data-table="efficiency-model"]', 'table[data-table="ablation"]', 'table[data-table="provenance"]', '.skipped', 'svg.plot', 'figure[data-figure="training"] svg']) {
      const elements = page.locator(selector);
      const count = await elements.count();
      expect(count, selector).toBeGreaterThan(0);
      for (let index = 0; index < count; index += 1) {
        const element = elements.nth(index);
        expect(await element.isVisible(), `${selector} #${index} visible`).toBe(true);
        const box = await element.boundingBox();
        expect(box?.width ?? 0, `${selector} #${index} width`).toBeGreaterThan(50);
        expect(box?.height ?? 0, `${selector} #${index} height`).toBeGreaterThan(20);
      }
    }
    // Each figure has 3 panels with one drawn line per editor (none, ft, lte, recipe, rome on ZsRE).
    const lines = page.locator('svg.plot >> nth=0 >> path.series');
    expect(await lines.count()).toBe(15);
    const firstLine = await lines.nth(1).boundingBox();
    expect(firstLine?.width ?? 0).toBeGreaterThan(100);
  });

  it('puts RECIPE and its ablations in their own table, and the large-model times with their ratio', async () => {
    const ablationRows = await page.evaluate<string[]>('[...document.querySelectorAll("table[data-table=ablation] tbody tr")].map((row) => row.dataset.editor)');
    expect(ablationRows).toEqual(['none', 'recipe (w/o CPT)', 'recipe (w/o KS)', 'recipe']);
    const mainRows = await page.evaluate<string[]>('[...document.querySelectorAll("table[data-table=main]")[0].querySelectorAll("tbody tr")].map((row) => row.dataset.editor)');
    expect(mainRows).toEqual(['none', 'ft', 'lte', 'rome', 'recipe']);
    const ratio = await page.evaluate<string>('document.querySelector("table[data-table=efficiency-model] tr[data-editor=recipe] td[data-column=ratio]").textContent');
    expect(ratio).toBe('×1.25');
    const skippedRow = await page.evaluate<string>('document.querySelector("table[data-table=efficiency-model] tr[data-editor=mend]").textContent');
    expect(skippedRow).toMatch(/skipped: no editor named mend/);
  });

  it('keeps injected markup as text and fits the page width', async () => {
    expect(await page.evaluate<number>('document.scripts.length')).toBe(0);
    expect(await page.evaluate<string>('document.querySelector("h1").textContent')).toBe('Lifelong editing: <script>alert(1)</script> & friends');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('saves a full-page screenshot', async () => {
    mkdirSync(screenshots, { recursive: true });
    const file = path.join(screenshots, 'report.png');
    await page.screenshot({ path: file, fullPage: true });
    copyFileSync(new URL(reportUrl), path.join(screenshots, 'report.html'));
    expect(existsSync(file)).toBe(true);
    console.info(`[report-in-chromium] screenshot: ${file}`);
  });
});
