import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceUnavailableError, selectDevice } from '@ortvision/core';
import { fixtureImagePath } from '@ortvision/core/testing';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebServer } from './server.js';
import { PICTURE_MAX_SIDE } from './tasks.js';

// Debian's chromium; CHROMIUM_PATH points elsewhere on other systems. Nothing is downloaded.
const browserPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createWebServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

interface Answer {
  error?: string;
  task?: string;
  picture?: string;
  result?: { labels?: { label: string; score: number }[] };
}

async function post(query: string, body: Uint8Array | string): Promise<{ status: number; json: Answer }> {
  const response = await fetch(`${base}/api/run?${query}`, { method: 'POST', body });
  return { status: response.status, json: (await response.json()) as Answer };
}

describe('web example API', () => {
  it('classifies a posted digit with the shipped ViT and returns the JSON and a PNG data URL', async () => {
    const { status, json } = await post(
      'task=classify',
      await readFile(fixtureImagePath('digits/digit_1022_4.png')),
    );
    expect(status).toBe(200);
    expect(json.task).toBe('classify');
    expect(json.result?.labels?.[0]?.label).toBe('4');
    expect(json.result?.labels).toHaveLength(3);
    expect(json.picture).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
  });

  it('answers 400 with a JSON error naming what was wrong', async () => {
    const cats = await readFile(fixtureImagePath('cats.png'));
    const cases = await Promise.all([
      post('task=translate', cats),
      post('task=classify', ''),
      post('task=classify', 'not an image'),
      post('task=zero-shot&prompts=%20,%20', cats),
    ]);
    expect(cases.map((c) => c.status)).toEqual([400, 400, 400, 400]);
    expect(cases.map((c) => c.json.error)).toEqual([
      'InvalidArgumentError: task must be one of classify, detect, segment, zero-shot, got "translate"',
      'InvalidArgumentError: the request body must be the image file (PNG, JPEG, ...), got an empty body',
      'InvalidImageError: cannot decode "<12-byte buffer>": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)',
      'InvalidArgumentError: zero-shot needs candidate labels in prompts (comma-separated), got none',
    ]);
    const get = await fetch(`${base}/api/run?task=classify`);
    expect([get.status, ((await get.json()) as Answer).error]).toEqual([
      405,
      'POST the image bytes to /api/run',
    ]);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
  });

  it('returns a picture scaled to PICTURE_MAX_SIDE for a huge upload, not a full-size PNG data URL', async () => {
    // 6000x4500 (27 MP, a phone photo's size); its full-size annotated PNG would be a data URL of tens of MB.
    const big = await sharp({
      create: { width: 6000, height: 4500, channels: 3, background: { r: 30, g: 90, b: 200 } },
    })
      .png()
      .toBuffer();
    const response = await fetch(`${base}/api/run?task=classify`, { method: 'POST', body: big });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text.length).toBeLessThan(1_000_000);
    const answer = JSON.parse(text) as Answer;
    const png = Buffer.from(answer.picture!.slice('data:image/png;base64,'.length), 'base64');
    const meta = await sharp(png).metadata();
    expect(PICTURE_MAX_SIDE).toBe(1280);
    // The image is scaled to 1280x960; the caption band below it adds to the height only.
    expect(meta.width).toBe(1280);
    expect(meta.height).toBeGreaterThan(960);
    expect(meta.height).toBeLessThan(1280);
  });
});

describe('web example devices', () => {
  it('--device cuda without CUDA fails when the server is created, naming what is missing', () => {
    let cudaError: unknown;
    try {
      selectDevice('cuda');
    } catch (error) {
      cudaError = error;
    }
    if (cudaError === undefined) {
      // A machine with CUDA: the server starts.
      const gpuServer = createWebServer({ device: 'cuda' });
      expect(gpuServer.listening).toBe(false);
      gpuServer.close();
      return;
    }
    expect(cudaError).toBeInstanceOf(DeviceUnavailableError);
    expect(() => createWebServer({ device: 'cuda' })).toThrowError(cudaError as Error);
  });
});

describe('web example in a browser', () => {
  it('uploads cats.png, runs detection with typed prompts, and shows the picture and the JSON', async () => {
    if (!existsSync(browserPath)) {
      throw new Error(
        `no browser at ${browserPath}: this test drives Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`,
      );
    }
    const profile = await mkdtemp(join(tmpdir(), 'ortvision-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: browserPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(base);
      await page.setInputFiles('#file', fixtureImagePath('cats.png'));
      await page.selectOption('#task', 'detect');
      await page.fill('#prompts', 'a cat, a remote control');
      await page.click('#run');
      // Expressions as strings: they run in the page, and this package is type-checked without the DOM library.
      await page.waitForFunction(
        "(() => { const img = document.getElementById('result'); return !img.hidden && img.complete && img.naturalWidth > 0; })()",
        undefined,
        { timeout: 20_000 },
      );
      const size = await page.evaluate(
        "(() => { const img = document.getElementById('result'); return [img.naturalWidth, img.naturalHeight]; })()",
      );
      expect(size).toEqual([640, 480]);
      const shown = JSON.parse((await page.textContent('#json')) ?? 'null');
      expect(shown.mode).toBe('zero-shot');
      expect(shown.detections.length).toBeGreaterThan(0);
      expect(new Set(shown.detections.map((d: { label: string }) => d.label))).toEqual(
        new Set(['a cat', 'a remote control']),
      );
      expect(await page.textContent('#error')).toBe('');

      // An error after a success clears the previous picture and JSON instead of leaving them on screen.
      await page.selectOption('#task', 'zero-shot');
      await page.fill('#prompts', '');
      await page.click('#run');
      await page.waitForFunction("document.getElementById('error').textContent !== ''", undefined, {
        timeout: 20_000,
      });
      expect(await page.textContent('#error')).toBe(
        'InvalidArgumentError: zero-shot needs candidate labels in prompts (comma-separated), got none',
      );
      expect(await page.isHidden('#result')).toBe(true);
      expect(await page.isHidden('#json')).toBe(true);
      expect(await page.textContent('#json')).toBe('');
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
