// tests/browser/a11y.test.mjs: every page checked with axe-core (WCAG 2.1 A and AA rules: colour
// contrast, labels, names of buttons and links, landmarks, language…) at a phone's and a
// desktop's width, filled with real content. axe is injected into a context that bypasses
// the CSP (the pages' own contexts in journey.test.mjs never do), so this file tests what a
// person sees, not the security headers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BASE, TOKENS, launch, owner } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
let browser, ctx;

async function check(page, what) {
  const found = [];
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await page.addScriptTag({ path: AXE });
    const r = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
    found.push(...r.map((x) => `${what} @${width}px: ${x}`));
  }
  assert.deepEqual(found, [], 'accessibility violations');
}

async function signIn(page, token) {
  await page.goto(BASE + '/');
  await page.fill('#token', token);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('body[data-ready="1"]');
}

describe('the pages are usable without sight of colour, by keyboard and screen reader', () => {
  const hh = {};
  before(async () => {
    browser = await launch();
    ctx = await browser.newContext({ bypassCSP: true, locale: 'vi-VN' });
    // a household with a product to show on the owner's page
    const o = owner(27);
    const auth = { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' };
    const r = await fetch(BASE + '/v1/households', {
      method: 'POST', headers: auth,
      body: JSON.stringify({ owner_name: 'Đỗ Văn Bình', cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: '16522', consent: true, business_name: 'Mắm tép Bình' }),
    });
    assert.equal(r.status, 201);
    Object.assign(hh, await r.json());
    const p = await fetch(`${BASE}/v1/households/${hh.code}/products`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ name: 'Mắm tép Hà Trung', description: 'Mắm tép làm thủ công, ủ chượp ba tháng.', category: 'condiment', price_vnd: 45000, weight_g: 400 }),
    });
    assert.equal(p.status, 201);
  });
  after(async () => {
    await browser?.close();
  });

  it('sign-in page', async () => {
    const page = await ctx.newPage();
    await page.goto(BASE + '/');
    await check(page, 'index.html');
    // an error shown beside the field is part of the page too
    await page.fill('#token', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('.field-error');
    await check(page, 'index.html with an error');
    await page.close();
  });

  it('owner status page with a result', async () => {
    const page = await ctx.newPage();
    await page.goto(`${BASE}/owner.html#code=${hh.code}`);
    await check(page, 'owner.html');
    await page.fill('#pin', hh.pin);
    await page.click('#lookup button[type=submit]');
    await page.waitForSelector('#products li');
    await check(page, 'owner.html with the status');
    await page.close();
  });

  it('volunteer workspace with a household open', async () => {
    const page = await ctx.newPage();
    await signIn(page, TOKENS.volunteer);
    await page.click(`#households li[data-code="${hh.code}"] button`);
    await page.waitForSelector('#products li[data-product]');
    await check(page, 'volunteer.html');
    await page.close();
  });

  it('marketplace categories (admin)', async () => {
    const page = await (await browser.newContext({ bypassCSP: true, locale: 'vi-VN' })).newPage();
    await signIn(page, TOKENS.admin);
    await page.goto(BASE + '/categories.html');
    await page.waitForSelector('body[data-ready="1"] form[data-category]');
    await check(page, 'categories.html');
    await page.close();
  });

  it('volunteers (admin)', async () => {
    const page = await (await browser.newContext({ bypassCSP: true, locale: 'vi-VN' })).newPage();
    await signIn(page, TOKENS.admin);
    await page.goto(BASE + '/volunteers.html');
    await page.waitForSelector('body[data-ready="1"]');
    await check(page, 'volunteers.html');
    await page.close();
  });

  it('flagship list and proposals (admin)', async () => {
    const page = await (await browser.newContext({ bypassCSP: true, locale: 'vi-VN' })).newPage();
    await signIn(page, TOKENS.admin);
    await page.goto(BASE + '/flagship.html');
    await page.waitForSelector('body[data-ready="1"]');
    await check(page, 'flagship.html');
    await page.close();
  });

  it('dashboard', async () => {
    const page = await (await browser.newContext({ bypassCSP: true, locale: 'vi-VN' })).newPage();
    await signIn(page, TOKENS.monitor);
    await check(page, 'dashboard.html');
    await page.close();
  });
});
