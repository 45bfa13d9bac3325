// tests/browser/sales.test.mjs: sales on postmart.vn / voso.vn on a 360 px phone (issue 11) — the
// volunteer records a sale seen in the seller centre with a screenshot as evidence, confirms an
// owner's "Tôi đã bán được hàng", and uploads the seller centre's order export; the page never
// scrolls sideways. No request leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, launch, person, screenshots, signIn, owner } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
// a real 1 × 1 PNG (the service decides the type by these bytes)
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
let browser, vol, fx;

async function call(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: r.status, json, text };
}

// A page on the postmart.vn simulator (the link check reads it), its address
async function page(kind, id, title) {
  const r = await fetch(process.env.CHOSO_SANDBOX_ADMIN_URL + '/__sandbox/pages', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ marketplace: 'postmart', kind, id, state: 'published', title }),
  });
  const j = await r.json();
  assert.equal(r.status, 200, JSON.stringify(j));
  return j.url;
}

// A household with a product live on postmart.vn, through the API as the volunteer would.
async function liveOnPostmart() {
  const o = owner(29);
  const h = await call('POST', '/v1/households', { owner_name: 'Lê Thị Hoa', cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: '14797', consent: true, consent_version: '2025-01' });
  assert.equal(h.status, 201, h.text);
  const code = h.json.code, pin = h.json.pin;
  const p = await call('POST', `/v1/households/${code}/products`, { name: 'Bánh gai Tứ Trụ', description: 'Bánh gai lá gai tươi, nhân đậu xanh dừa', category: 'food_dish', price_vnd: 60000, weight_g: 500, stock: 20 });
  assert.equal(p.status, 201, p.text);
  const fd = new FormData();
  fd.append('image', new Blob([PNG], { type: 'image/png' }), 'banh-gai.png');
  const im = await fetch(`${BASE}/v1/products/${p.json.id}/images`, { method: 'POST', headers: { Authorization: 'Bearer ' + TOKENS.volunteer }, body: fd });
  assert.equal(im.status, 201, await im.text());
  const a = await call('POST', `/v1/households/${code}/accounts`, { marketplace: 'postmart' });
  assert.ok(a.status < 300, a.text);
  let c = null;
  for (let i = 0; i < 40; i++) {
    c = await call('POST', `/v1/households/${code}/accounts/postmart/confirm`, { shop_url: await page('shop', 'banh-gai-hoa-' + code, 'Bánh gai Hoa'), shop_name: 'Bánh gai Hoa' });
    if (c.status < 300) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.ok(c.status < 300, c.text);
  // the shop is checked on the marketplace first; publishing waits until it is active
  let pub = null;
  for (let i = 0; i < 60; i++) {
    pub = await call('POST', `/v1/products/${p.json.id}/listings`, { marketplaces: ['postmart'] });
    if (pub.status < 300) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.ok(pub.status < 300, pub.text);
  // the worker prepares the upload sheet; then the volunteer gives the listing's address
  const url = await page('product', 'banh-gai-' + code, 'Bánh gai Tứ Trụ');
  let listing = null, lc = null, seen = '';
  for (let i = 0; i < 60; i++) {
    const g = await call('GET', `/v1/products/${p.json.id}`);
    seen = JSON.stringify(g.json?.listings);
    listing = (g.json?.listings || []).find((l) => l.marketplace === 'postmart' && l.id);
    if (listing) {
      lc = await call('POST', `/v1/listings/${listing.id}/confirm`, { listing_url: url });
      if (lc.status < 300) break;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.ok(lc && lc.status < 300, `the postmart listing's address is taken: ${seen} ${lc?.text}`);
  // the link check reads the page and the listing goes live
  let state = '', last = '';
  for (let i = 0; i < 60 && state !== 'live'; i++) {
    if (i) await new Promise((res) => setTimeout(res, 500));
    const g = await call('GET', `/v1/listings/${listing.id}`);
    state = g.json?.state || '';
    last = g.text;
  }
  assert.equal(state, 'live', last);
  return { code, pin, product: p.json.id, listing: listing.id };
}

async function noSideways(page) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= PHONE.width, `the page is ${w} px wide`);
}

describe('sales on postmart.vn and voso.vn, on a phone', () => {
  before(async () => {
    browser = await launch();
    vol = await person(browser, 'volunteer-sales', PHONE);
    const p = await vol.page();
    await signIn(p, TOKENS.volunteer, 'volunteer.html');
    await p.close();
    fx = await liveOnPostmart();
  });
  after(async () => {
    await browser?.close();
  });

  it('records a sale seen in the seller centre, with its screenshot as evidence', async () => {
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    await page.fill('#hh-q', fx.code);
    await page.click('#hh-search button[type=submit]');
    await page.click(`#households li[data-code="${fx.code}"] button`);
    const sale = `li[data-listing="${fx.listing}"] details[data-role=sale]`;
    await page.waitForSelector(sale);
    await page.click(`${sale} summary`);
    // a malformed order code is refused beside the field, in Vietnamese
    await page.fill(`${sale} input[name=order_code]`, 'PM 01;');
    await page.fill(`${sale} input[name=amount_vnd]`, '120000');
    await page.click(`${sale} button[type=submit]`);
    await page.waitForSelector(`${sale} [data-error-for=order_code]`);
    await page.fill(`${sale} input[name=order_code]`, 'PM-2026-7781');
    await page.fill(`${sale} input[name=quantity]`, '2');
    await page.setInputFiles(`${sale} input[name=photo]`, { name: 'man-hinh.png', mimeType: 'image/png', buffer: PNG });
    await page.click(`${sale} button[type=submit]`);
    const ok = await page.waitForSelector('[data-role=evidence-ok]', { timeout: 20000 }).catch(() => null);
    assert.ok(ok, 'the screenshot is kept: ' + (await page.textContent(`li[data-product="${fx.product}"]`)));
    await noSideways(page);
    await screenshots(page, 'volunteer-sale');
    const list = await call('GET', '/v1/sales?limit=200');
    const rec = list.json.items.find((s) => s.order_code === 'PM-2026-7781');
    assert.ok(rec, 'recorded');
    assert.equal(rec.quantity, 2);
    assert.equal(rec.state, 'confirmed');
    assert.ok(rec.evidence_url, 'the screenshot is kept');
    const img = await fetch(BASE + rec.evidence_url, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } });
    assert.equal(img.status, 200);
    assert.ok(/^image\//.test(img.headers.get('content-type')));
    await page.close();
  });

  it('confirms an owner\'s "Tôi đã bán được hàng" and uploads the order export', async () => {
    const claim = await fetch(`${BASE}/v1/status/${fx.code}/sales`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pin: fx.pin, listing_id: fx.listing, order_code: 'PM-2026-7790', sold_on: '2026-01-20', quantity: 1, amount_vnd: 60000 }),
    });
    const cj = await claim.json();
    assert.equal(claim.status, 201, JSON.stringify(cj));
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    const row = `#sales-pending li[data-claim="${cj.id}"]`;
    await page.waitForSelector(row);
    assert.match(await page.textContent(row), /PM-2026-7790/);
    await page.click(`${row} [data-role=claim-accept]`);
    await page.waitForFunction((sel) => /Đã xác nhận/.test(document.querySelector(sel)?.textContent || ''), row);
    const after = await call('GET', '/v1/sales?limit=200');
    assert.equal(after.json.items.find((s) => s.id === cj.id).state, 'confirmed');

    // the seller centre's export: one delivered order, one cancelled, one not ours
    const csv = 'Mã đơn hàng,Ngày giao thành công,Mã SKU,Số lượng,Thành tiền,Trạng thái đơn hàng\r\n' +
      `PM-2026-7801,21/01/2026,CS-${fx.listing},3,180000,Đã giao\r\n` +
      `PM-2026-7802,22/01/2026,CS-${fx.listing},1,60000,Đã hủy\r\n` +
      'PM-2026-7803,22/01/2026,KHAC-1,1,60000,Đã giao\r\n';
    await page.selectOption('#si-marketplace', 'postmart');
    await page.setInputFiles('#si-file', { name: 'don-hang.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#sales-import button[type=submit]');
    await page.waitForSelector('[data-role=sales-import-report]');
    const text = await page.textContent('#sales-import-status');
    assert.match(text, /3 dòng: 1 đơn mới được tính/);
    assert.match(text, /dòng 4:/);
    await noSideways(page);
    await screenshots(page, 'volunteer-sales-import');
    await page.close();
  });

  it('takes a photo of the screen with the owner\'s claim; the volunteer sees it when confirming', async () => {
    const own = await person(browser, 'owner-sales', PHONE);
    const op = await own.page();
    await op.goto(`${BASE}/owner.html#code=${fx.code}`);
    await op.fill('#pin', fx.pin);
    await op.click('#lookup button[type=submit]');
    const form = `form.sold[data-listing="${fx.listing}"]`;
    await op.waitForSelector(`details:has(${form}) summary`);
    await op.click(`details:has(${form}) summary`);
    await op.fill(`${form} input[name=order_code]`, 'PM-2026-7820');
    await op.fill(`${form} input[name=amount_vnd]`, '60000');
    // a phone screenshot: 1440 × 3200 PNG drawn in the page; it leaves the phone as a JPEG
    const shot = await op.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 1440; c.height = 3200;
      const g = c.getContext('2d');
      for (let i = 0; i < 40; i++) { g.fillStyle = `hsl(${i * 9},60%,50%)`; g.fillRect((i * 37) % 1440, i * 80, 600, 80); }
      const b = await new Promise((r) => c.toBlob(r, 'image/png'));
      return [...new Uint8Array(await b.arrayBuffer())];
    });
    await op.setInputFiles(`${form} input[name=photo]`, { name: 'Screenshot_2026.png', mimeType: 'image/png', buffer: Buffer.from(shot) });
    await op.click(`${form} button[type=submit]`);
    await op.waitForSelector('[data-role=evidence-ok]', { timeout: 20000 });
    await noSideways(op);
    await screenshots(op, 'owner-sale-claim-photo');
    own.check();
    await op.close();

    const list = await call('GET', '/v1/sales?state=pending&limit=200');
    const rec = list.json.items.find((x) => x.order_code === 'PM-2026-7820');
    assert.ok(rec && rec.source === 'owner' && rec.evidence_url, JSON.stringify(rec));
    const img = await fetch(BASE + rec.evidence_url, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } });
    assert.equal(img.headers.get('content-type'), 'image/jpeg', 'shrunk to a JPEG on the phone');
    // the owner route refuses a wrong PIN and a sale that is not the household's pending claim
    const send = async (pin, id) => {
      const fd = new FormData();
      fd.append('pin', pin);
      fd.append('image', new Blob([PNG], { type: 'image/png' }), 'x.png');
      return (await fetch(`${BASE}/v1/status/${fx.code}/sales/${id}/evidence`, { method: 'POST', body: fd })).status;
    };
    assert.equal(await send(fx.pin === '000000' ? '111111' : '000000', rec.id), 401);
    const volunteers = (await call('GET', '/v1/sales?state=confirmed&limit=200')).json.items.find((x) => x.source !== 'owner');
    assert.ok(volunteers);
    assert.equal(await send(fx.pin, volunteers.id), 404, 'a volunteer\'s record is not the owner\'s to change');

    // the volunteer sees the screenshot beside the claim, then confirms it
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    const row = `#sales-pending li[data-claim="${rec.id}"]`;
    await page.waitForSelector(`${row} img.evidence-thumb`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.naturalWidth > 0, `${row} img.evidence-thumb`);
    const [w, h] = await page.$eval(`${row} img.evidence-thumb`, (i) => [i.naturalWidth, i.naturalHeight]);
    assert.ok(Math.max(w, h) <= 1600 && h > w, `${w} × ${h}`);
    await page.click(`${row} [data-role=claim-accept]`);
    await page.waitForFunction((sel) => /Đã xác nhận/.test(document.querySelector(sel)?.textContent || ''), row);
    await noSideways(page);
    vol.allow(/status of 422/); // the first test's malformed order code, on purpose
    vol.check();
    await page.close();
  });
});
