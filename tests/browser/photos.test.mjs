// tests/browser/photos.test.mjs: a product's photos managed on a 360 px phone (issue 13 point 5)
// — "◀" moves a photo earlier (the first cannot move), "✕" deletes one after a confirmation
// ("Huỷ" keeps it); what the page shows is checked against what the API stores. No request
// leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, launch, person, screenshots, signIn, owner } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
const COMMUNE = '14797';
let browser, vol;

async function call(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

const shas = async (id) => (await call('GET', `/v1/products/${id}`)).json.images.map((i) => i.sha256);
const shown = (page, id) => page.$$eval(`li[data-product="${id}"] .photo-manager li[data-sha]`, (ls) => ls.map((l) => l.dataset.sha));

describe('product photos on a phone', () => {
  before(async () => {
    browser = await launch();
    vol = await person(browser, 'volunteer-photos', PHONE);
  });
  after(async () => {
    await browser?.close();
  });

  it('moves a photo earlier and deletes one after asking', async () => {
    const page = await vol.page();
    await signIn(page, TOKENS.volunteer, 'volunteer.html');
    const o = owner(28);
    const h = await call('POST', '/v1/households', { owner_name: 'Lương Thị Ảnh', cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: COMMUNE, consent: true, consent_version: '2025-01' });
    assert.equal(h.status, 201, JSON.stringify(h.json));
    const p = await call('POST', `/v1/households/${h.json.code}/products`, { name: 'Chè lam Phủ Quảng', description: 'Chè lam làm từ gạo nếp, gừng và mật mía', category: 'food_dish', price_vnd: 40000, weight_g: 250, stock: 20 });
    assert.equal(p.status, 201, JSON.stringify(p.json));
    const id = p.json.id;
    // three different photos (PNG drawn in the page), uploaded as the API takes them
    for (const hue of [0, 120, 240]) {
      const bytes = await page.evaluate(async (hue) => {
        const c = document.createElement('canvas');
        c.width = 800; c.height = 800;
        const g = c.getContext('2d');
        g.fillStyle = `hsl(${hue},70%,50%)`;
        g.fillRect(0, 0, 800, 800);
        g.fillStyle = '#fff';
        g.fillRect(200 + hue, 300, 200, 200);
        const b = await new Promise((r) => c.toBlob(r, 'image/png'));
        return [...new Uint8Array(await b.arrayBuffer())];
      }, hue);
      const fd = new FormData();
      fd.append('image', new Blob([Buffer.from(bytes)], { type: 'image/png' }), `anh-${hue}.png`);
      const up = await fetch(BASE + `/v1/products/${id}/images`, { method: 'POST', headers: { Authorization: 'Bearer ' + TOKENS.volunteer }, body: fd });
      assert.equal(up.status, 201, await up.text());
    }
    const [a, b, c] = await shas(id);
    assert.ok(a && b && c);

    await page.fill('#hh-q', h.json.code);
    await page.click('#hh-search button[type=submit]');
    await page.click(`#households li[data-code="${h.json.code}"] button`);
    await page.waitForSelector(`li[data-product="${id}"] .photo-manager li[data-sha]`);
    assert.deepEqual(await shown(page, id), [a, b, c]);
    // the main photo cannot move earlier
    assert.equal(await page.isDisabled(`li[data-product="${id}"] [aria-label="Đưa ảnh 1 lên trước"]`), true);

    // the third photo one place earlier: a, c, b — on the page and in the API
    await page.click(`li[data-product="${id}"] [aria-label="Đưa ảnh 3 lên trước"]`);
    await page.waitForFunction(([pid, want]) => [...document.querySelectorAll(`li[data-product="${pid}"] .photo-manager li[data-sha]`)].map((l) => l.dataset.sha).join() === want, [id, [a, c, b].join()]);
    assert.deepEqual(await shas(id), [a, c, b]);
    // and again to the front: c is the main photo now
    await page.click(`li[data-product="${id}"] [aria-label="Đưa ảnh 2 lên trước"]`);
    await page.waitForFunction(([pid, want]) => [...document.querySelectorAll(`li[data-product="${pid}"] .photo-manager li[data-sha]`)].map((l) => l.dataset.sha).join() === want, [id, [c, a, b].join()]);
    assert.deepEqual(await shas(id), [c, a, b]);

    // delete asks first: "Huỷ" keeps the photo
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
    await page.click(`li[data-product="${id}"] [aria-label="Xoá ảnh 2"]`);
    await page.waitForTimeout(300);
    assert.match(asked, /Xoá ảnh 2 của “Chè lam Phủ Quảng”/);
    assert.deepEqual(await shas(id), [c, a, b]);
    // accepted: gone from the page and from the product
    page.once('dialog', (d) => d.accept());
    await page.click(`li[data-product="${id}"] [aria-label="Xoá ảnh 2"]`);
    await page.waitForFunction(([pid, want]) => [...document.querySelectorAll(`li[data-product="${pid}"] .photo-manager li[data-sha]`)].map((l) => l.dataset.sha).join() === want, [id, [c, b].join()]);
    assert.deepEqual(await shas(id), [c, b]);
    const img = await fetch(BASE + `/media/${a}`);
    assert.equal(img.status, 404, 'a photo no product uses is not served any more');
    await screenshots(page, 'volunteer-photo-manager');
    vol.check();
    await page.close();
  });
});
