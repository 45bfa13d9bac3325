// tests/browser/flagship_admin.test.mjs: the provincial staff's flagship page at 360 px (issue 12):
// search the province's list without accents, add an entry (a bad year is named beside its
// field first), edit it, approve one volunteer's proposal and refuse another with a reason; the
// API then shows each decision, the waiting list shrinks by two, and the targets do not move
// (neither product is live: only an approved AND live pair counts). No request leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, call, launch, person, screenshots, signIn, owner } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
const COMMUNE = '14797';
let browser, admin;

// A household with one product proposed for a list entry (by name, as volunteers do).
async function proposal(ownerName, age, productName, entry) {
  const o = owner(age);
  const h = await call('POST', '/v1/households', TOKENS.volunteer,
    { owner_name: ownerName, cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: COMMUNE, consent: true, consent_version: '2025-01' });
  assert.equal(h.status, 201, JSON.stringify(h.json));
  const p = await call('POST', `/v1/households/${h.json.code}/products`, TOKENS.volunteer,
    { name: productName, description: 'Sản phẩm làm thủ công tại hộ, đóng gói cẩn thận.', category: 'cake_confectionery', price_vnd: 55000, weight_g: 300, stock: 10, flagship_entry: entry });
  assert.equal(p.status, 201, JSON.stringify(p.json));
  assert.equal(p.json.flagship_status, 'proposed');
  return { code: h.json.code, id: p.json.id };
}

const metric = (t, m) => t.metrics.find((x) => x.metric === m).achieved;
const waiting = async () => (await call('GET', '/v1/products?flagship_status=proposed&limit=200', TOKENS.admin)).json.items.map((p) => p.id);

describe('the flagship page of the provincial staff', () => {
  before(async () => {
    browser = await launch();
    admin = await person(browser, 'admin-flagship', PHONE);
    const p = await admin.page();
    await signIn(p, TOKENS.admin, 'dashboard.html');
    await p.close();
  });
  after(async () => {
    await browser?.close();
  });

  it('searches, adds and edits list entries, with the field error beside the field', async () => {
    const page = await admin.page();
    await page.goto(BASE + '/dashboard.html');
    await page.waitForSelector('#userbar a[href="flagship.html"]');
    await page.click('#userbar a[href="flagship.html"]');
    await page.waitForSelector('body[data-ready="1"]');
    // accents aside: "che lam" finds "Chè lam Phủ Quảng"
    await page.fill('#q', 'che lam phu quang');
    await page.waitForFunction(() => [...document.querySelectorAll('#list li h3')].some((h) => h.textContent === 'Chè lam Phủ Quảng'));
    // a new entry with a year before OCOP existed: the API's error stands beside the year
    const name = 'Bánh gai Tứ Trụ hộp thử ' + Date.now().toString(36);
    await page.fill('#f-name', name);
    await page.fill('#f-producer', 'HTX Bánh gai Tứ Trụ');
    await page.selectOption('#f-category', 'cake_confectionery');
    await page.selectOption('#f-stars', '4');
    await page.fill('#f-cert', 'OCOP-TH-2024-117');
    await page.fill('#f-year', '1999');
    await page.click('#entry-save');
    await page.waitForSelector('#f-year[aria-invalid=true]');
    assert.ok(await page.$('.field:has(#f-year) .field-error[data-error-for=ocop_year]'), 'the year error is beside the year');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
    await screenshots(page, 'flagship-admin-field-error'); // leaves the page at a desktop's width
    await page.setViewportSize(PHONE);
    await page.fill('#f-year', '2024');
    await page.click('#entry-save');
    const row = (n) => page.waitForFunction((n) => [...document.querySelectorAll('#list li h3')].some((h) => h.textContent === n), n);
    await row(name);
    const found = (await call('GET', '/v1/flagship-products?q=' + encodeURIComponent(name), TOKENS.admin)).json.items;
    assert.equal(found.length, 1);
    assert.deepEqual([found[0].producer, found[0].ocop_stars, found[0].certificate_no, found[0].ocop_year], ['HTX Bánh gai Tứ Trụ', 4, 'OCOP-TH-2024-117', 2024]);
    // the name another entry has (accents aside) is refused beside the name
    await page.fill('#f-name', 'CHE LAM PHU QUANG');
    await page.selectOption('#f-category', 'cake_confectionery');
    await page.click('#entry-save');
    await page.waitForSelector('#f-name[aria-invalid=true]');
    // edit: the producer changes, the list shows it
    await page.click(`#list li[data-id="${found[0].id}"] button`);
    assert.equal(await page.inputValue('#f-name'), name);
    await page.fill('#f-producer', 'Cơ sở Bánh gai Tứ Trụ Thọ Xuân');
    await page.click('#entry-save');
    await page.waitForFunction((id) => /Thọ Xuân/.test(document.querySelector(`#list li[data-id="${id}"]`)?.textContent || ''), found[0].id);
    const edited = (await call('GET', '/v1/flagship-products?q=' + encodeURIComponent(name), TOKENS.admin)).json.items[0];
    assert.equal(edited.producer, 'Cơ sở Bánh gai Tứ Trụ Thọ Xuân');
    assert.equal(edited.ocop_year, 2024);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
    // the two refused saves (year, name taken) are the only failed requests
    admin.allow(/status of 422/);
    admin.check();
    await page.close();
  });

  it('approves one proposal and refuses another with a reason; the list refreshes', async () => {
    const a = await proposal('Trịnh Văn Lâm', 27, 'Chè lam Phủ Quảng gói 200 g', 'Chè lam Phủ Quảng');
    const b = await proposal('Hà Thị Nga', 25, 'Chè lam gói giấy 500 g', 'Chè lam Phủ Quảng (Cơ sở sản xuất Lâm Thu)');
    const t0 = (await call('GET', '/v1/targets', TOKENS.admin)).json;
    const w0 = await waiting();
    assert.ok(w0.includes(a.id) && w0.includes(b.id));
    const page = await admin.page();
    await page.goto(BASE + '/flagship.html');
    await page.waitForSelector('body[data-ready="1"]');
    const ca = `#proposals li[data-product="${a.id}"]`, cb = `#proposals li[data-product="${b.id}"]`;
    await page.waitForSelector(cb);
    const text = await page.textContent(cb);
    assert.match(text, new RegExp(b.code));
    assert.match(text, new RegExp(COMMUNE));
    assert.match(text, /Chè lam Phủ Quảng \(Cơ sở sản xuất Lâm Thu\)/);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
    await screenshots(page, 'flagship-admin-proposals');
    // Duyệt: the card leaves the waiting list
    await page.click(`${ca} button:text-is("Duyệt")`);
    await page.waitForSelector(ca, { state: 'detached' });
    // Từ chối without a reason is stopped on the page; with one it goes
    await page.click(`${cb} details summary`);
    await page.click(`${cb} form.refuse button[type=submit]`);
    await page.waitForFunction((sel) => /ghi lý do/.test(document.querySelector(sel)?.textContent || ''), cb);
    const reason = 'Hộ chưa có giấy chứng nhận OCOP cho sản phẩm này';
    await page.fill(`${cb} textarea[name=reason]`, reason);
    await page.click(`${cb} form.refuse button[type=submit]`);
    await page.waitForSelector(cb, { state: 'detached' });
    assert.match(await page.textContent('#proposals-status'), /Đã từ chối/);
    // through the API: each decision holds, the waiting list lost exactly these two
    const pa = (await call('GET', `/v1/products/${a.id}`, TOKENS.admin)).json;
    const pb = (await call('GET', `/v1/products/${b.id}`, TOKENS.admin)).json;
    assert.deepEqual([pa.flagship_status, pa.flagship], ['approved', true]);
    assert.deepEqual([pb.flagship_status, pb.flagship, pb.flagship_reason], ['refused', false, reason]);
    const w1 = await waiting();
    assert.ok(!w1.includes(a.id) && !w1.includes(b.id));
    assert.equal(w1.length, w0.length - 2);
    // neither product is live yet: an approval alone, or a refusal, never moves the targets
    const t1 = (await call('GET', '/v1/targets', TOKENS.admin)).json;
    for (const m of ['flagship_products_live', 'flagship_products_sold']) assert.equal(metric(t1, m), metric(t0, m), m);
    admin.check();
    await page.close();
  });
});
