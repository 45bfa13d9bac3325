// tests/browser/flagship.test.mjs: the flagship list entry on a 360 px phone (issues 12 and 13):
// the volunteer searches the province's list from the product form, proposes the entry, and
// sees the proposal's state on the product card — chờ duyệt, then bị từ chối with the Tỉnh
// đoàn's reason, then đã duyệt once another entry is approved. No request leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, call, launch, person, screenshots, signIn, owner } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
const COMMUNE = '14797';
let browser, vol;

describe('the flagship list entry in the product form', () => {
  before(async () => {
    browser = await launch();
    vol = await person(browser, 'volunteer-flagship', PHONE);
    const p = await vol.page();
    await signIn(p, TOKENS.volunteer, 'volunteer.html');
    await p.close();
  });
  after(async () => {
    await browser?.close();
  });

  it('proposes a list entry by searching, and shows waiting, refused with the reason, approved', async () => {
    const o = owner(24);
    const h = await call('POST', '/v1/households', TOKENS.volunteer,
      { owner_name: 'Lê Thị Hoa', cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: COMMUNE, consent: true, consent_version: '2025-01' });
    assert.equal(h.status, 201, JSON.stringify(h.json));
    const prod = await call('POST', `/v1/households/${h.json.code}/products`, TOKENS.volunteer,
      { name: 'Chè lam Phủ Quảng hộp 300 g', description: 'Chè lam làm từ gạo nếp, mật mía và gừng, gói giấy.', category: 'cake_confectionery', price_vnd: 60000, weight_g: 300, stock: 10 });
    assert.equal(prod.status, 201, JSON.stringify(prod.json));
    const id = prod.json.id;
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    await page.fill('#hh-q', h.json.code);
    await page.click('#hh-search button[type=submit]');
    await page.click(`#households li[data-code="${h.json.code}"] button`);
    const card = `li[data-product="${id}"]`;
    await page.waitForSelector(card);
    // the edit form searches the province's list as the volunteer types (no accents needed)
    await page.click(`${card} details summary`);
    await page.fill(`#e-flagship-${id}`, 'che lam');
    await page.waitForFunction((i) => [...document.querySelectorAll(`#e-flagship-list-${i} option`)].some((o) => o.value === 'Chè lam Phủ Quảng'), id);
    await page.fill(`#e-flagship-${id}`, 'Chè lam Phủ Quảng');
    await page.click(`${card} details button[type=submit]`);
    await page.waitForFunction((sel) => /chờ Tỉnh đoàn duyệt/.test(document.querySelector(sel)?.textContent || ''), card);
    let got = (await call('GET', `/v1/products/${id}`, TOKENS.volunteer)).json;
    assert.equal(got.flagship_status, 'proposed');
    assert.equal(got.flagship_entry, 'Chè lam Phủ Quảng');
    assert.equal(got.flagship, false);
    // nothing wider than the phone
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
    await screenshots(page, 'volunteer-flagship-proposed');
    // the Tỉnh đoàn refuses it with a reason: the card says so, reason included
    const reason = 'Cơ sở này chưa đạt chứng nhận OCOP cho sản phẩm chè lam';
    assert.equal((await call('POST', `/v1/products/${id}/flagship-decision`, TOKENS.admin, { decision: 'refuse', reason })).status, 200);
    await page.click('#products-refresh');
    await page.waitForFunction((sel) => /bị từ chối/.test(document.querySelector(sel)?.textContent || ''), card);
    assert.match(await page.textContent(card), new RegExp(reason));
    await screenshots(page, 'volunteer-flagship-refused');
    // another entry proposed from the form, approved: "★ chủ lực"
    await page.click(`${card} details summary`);
    await page.fill(`#e-flagship-${id}`, 'Chè lam Phủ Quảng (Cơ sở sản xuất Lâm Thu)');
    await page.click(`${card} details button[type=submit]`);
    await page.waitForFunction((sel) => /chờ Tỉnh đoàn duyệt/.test(document.querySelector(sel)?.textContent || ''), card);
    assert.equal((await call('POST', `/v1/products/${id}/flagship-decision`, TOKENS.admin, { decision: 'approve' })).status, 200);
    await page.click('#products-refresh');
    await page.waitForFunction((sel) => /★ chủ lực/.test(document.querySelector(sel)?.textContent || ''), card);
    got = (await call('GET', `/v1/products/${id}`, TOKENS.volunteer)).json;
    assert.equal(got.flagship_status, 'approved');
    assert.equal(got.flagship, true);
    vol.check();
  });
});
