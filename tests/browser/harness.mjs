// tests/browser/harness.mjs: what every browser test shares — Debian's Chromium through
// playwright-core (never a downloaded browser), one isolated context per person (own cookies),
// a guard that records and blocks any request leaving 127.0.0.1, console errors collected per
// page, and screenshots at 360 px and 1280 px into tests/artifacts/. Started by
// scripts/browser-tests, which sets CHOSO_BASE_URL and the tokens.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const BASE = process.env.CHOSO_BASE_URL;
export const TOKENS = {
  admin: process.env.CHOSO_TOKEN_ADMIN,
  monitor: process.env.CHOSO_TOKEN_MONITOR,
  volunteer: process.env.CHOSO_TOKEN_VOLUNTEER,
};
const ARTIFACTS = process.env.CHOSO_ARTIFACTS || 'tests/artifacts';

export async function launch() {
  assert.ok(BASE, 'CHOSO_BASE_URL is set (run through scripts/browser-tests)');
  mkdirSync(ARTIFACTS, { recursive: true });
  // playwright gives each launch a fresh temporary --user-data-dir of its own
  return chromium.launch({
    executablePath: process.env.CHOSO_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--no-default-browser-check'],
  });
}

const local = (url) => {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  try { return new URL(url).hostname === '127.0.0.1'; } catch { return false; }
};

// A person: an isolated browser context (its own cookie jar) with the guards attached.
// person.outside: URLs that tried to leave 127.0.0.1; person.errors: console errors and
// uncaught exceptions of its pages; person.allow(re): an expected error (e.g. the 422 of a
// form the test fills wrongly on purpose) is taken out of the list.
export async function person(browser, name, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const p = { name, context, outside: [], errors: [], requests: 0 };
  context.on('request', (req) => {
    p.requests++;
    if (!local(req.url())) p.outside.push(req.url());
  });
  // and nothing outside is ever reached, even if a page asked
  await context.route((url) => !local(url.href), (route) => route.abort('blockedbyclient'));
  p.page = async () => {
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') p.errors.push(`${name}: console: ${m.text()}`); });
    page.on('pageerror', (e) => p.errors.push(`${name}: exception: ${e.message}`));
    return page;
  };
  p.allow = (re) => { p.errors = p.errors.filter((e) => !re.test(e)); };
  p.check = () => {
    assert.deepEqual(p.outside, [], `${name}: requests that left 127.0.0.1`);
    assert.deepEqual(p.errors, [], `${name}: console errors`);
    assert.ok(p.requests > 0, `${name}: the guard saw the page's requests`);
  };
  return p;
}

// Full-page screenshots at a phone's and a desktop's width; at 360 px nothing may be wider than
// the screen (no sideways scrolling of the page itself).
export async function screenshots(page, name) {
  const files = [];
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await page.waitForTimeout(100);
    if (width === 360) {
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 1, `${name}: the page is ${over} px wider than a 360 px screen`);
    }
    const file = join(ARTIFACTS, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return files;
}

// Sign in through the sign-in page and wait for the page the role lands on.
export async function signIn(page, token, landing) {
  await page.goto(BASE + '/');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(new RegExp(landing.replace('.', '\\.'))), page.click('#signin button[type=submit]')]);
  await page.waitForSelector('body[data-ready="1"]');
}

// A product photo made in the browser (a canvas drawing, PNG bytes): no file from outside.
export async function photo(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 240;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 320, 240);
    grad.addColorStop(0, '#2e7d32');
    grad.addColorStop(1, '#f9a825');
    g.fillStyle = grad;
    g.fillRect(0, 0, 320, 240);
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc(160, 120, 60, 0, Math.PI * 2);
    g.fill();
    return c.toDataURL('image/png').split(',')[1];
  });
  return Buffer.from(b64, 'base64');
}

// Citizen ID and phone unique in this run, consistent with the birth year.
let serial = 0;
export function owner(age) {
  const y = new Date().getFullYear() - age;
  serial++;
  const rnd = String((Date.now() + serial * 7919) % 1000000).padStart(6, '0');
  return {
    birth: `05/03/${y}`,
    cccd: `038${y >= 2000 ? 3 : 1}${String(y % 100).padStart(2, '0')}${rnd}`,
    phone: `091${String((Date.now() + serial * 104729) % 10000000).padStart(7, '0')}`,
  };
}

// An API call as the bearer of token (JSON in, JSON out): { status, json }.
export async function call(method, path, token, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json() };
}
