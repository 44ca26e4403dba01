/**
 * @file What the browser tests share: the real `bnlab serve` in a child process (its URL read
 * from the line it prints), and Debian's Chromium driven by playwright-core with the flags the
 * issue names and a fresh profile. Nothing here downloads a browser: without `chromium` on the
 * PATH the tests fail and say how to install it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { BNLAB_BIN } from '../cli/run-cli.js';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The binary Debian's chromium package puts on the PATH; an Error that says how to get it otherwise. */
export function chromiumPath(): string {
  try {
    const path = execFileSync('/bin/sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // fall through to the message
  }
  throw new Error("Chromium is not installed, and the browser tests need it: run apt-get install -y chromium (Debian's package; .ci/run installs it).");
}

export interface LabServer {
  url: string;
  close(): Promise<void>;
}

/** `bnlab serve --port 0` on dist/web, resolved once it prints "bnlab lab: URL (Ctrl-C stops it)". */
export function startServer(): Promise<LabServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [BNLAB_BIN, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`bnlab serve printed no URL within 15 s; stdout: ${stdout} stderr: ${stderr}`));
    }, 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /bnlab lab: (http:\/\/\S+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGINT');
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`bnlab serve exited with code ${code} before printing its URL: ${stderr.trim() || stdout.trim()} (is the page built? npm run build:web)`),
      );
    });
  });
}

export interface LabBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh user-data-dir (playwright takes it as launchPersistentContext's argument, not as a flag). */
export async function launchBrowser(): Promise<LabBrowser> {
  const executablePath = chromiumPath();
  const userDataDir = mkdtempSync(join(tmpdir(), 'bnlab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page, as they happen. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}

/** Opens the lab at `query` and waits until both workers have configured their network. */
export async function openLab(page: Page, baseUrl: string, query: string): Promise<void> {
  await page.goto(new URL(query, baseUrl).href);
  await page.waitForFunction(() => window.bnlabLab?.ready === true, null, { timeout: 60_000 });
}

/** Presses Play and waits until both networks have finished their run. */
export async function playToEnd(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.click('#play');
  await page.waitForFunction(
    () => {
      const { state } = window.bnlabLab.stats;
      return state.left === 'finished' && state.right === 'finished';
    },
    null,
    { timeout: timeoutMs, polling: 100 },
  );
}

/**
 * The static server and Chromium for a suite: started before its first test (at once, both), stopped
 * after its last. Whatever failed to start fails every test (no skipping); what did start is stopped.
 */
export function labFixture(): { readonly server: LabServer; readonly browser: LabBrowser } {
  let server: LabServer | undefined;
  let browser: LabBrowser | undefined;
  before(async () => {
    const [started, launched] = await Promise.allSettled([startServer(), launchBrowser()]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const outcome of [launched, started]) if (outcome.status === 'rejected') throw outcome.reason;
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      return server!;
    },
    get browser() {
      return browser!;
    },
  };
}
