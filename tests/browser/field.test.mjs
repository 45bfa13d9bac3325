// tests/browser/field.test.mjs: field work on a 360 px phone (issue 13) — owners typing codes
// loosely and mistyping PINs (told the tries left and the wait in minutes, never locked out by
// others), the volunteer's search (newest first, "Xem thêm", code / phone / name, filters, birth
// year and masked phone per row), the youth label as soon as the birth date is typed, the
// communes' progress, photos shrunk in the browser with errors that stay, and the small things
// (no empty pink box, the household code on one line). No request leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, launch, person, screenshots, signIn, owner, photo } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
const COMMUNE = '14797';
let browser, vol, hh;

// A household straight through the API (the volunteer's token), for the list and the owner.
async function household(age, name = 'Phạm Văn Nam') {
  const o = owner(age);
  const r = await fetch(BASE + '/v1/households', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' },
    body: JSON.stringify({ owner_name: name, cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: COMMUNE, consent: true, consent_version: '2025-01' }),
  });
  const j = await r.json();
  assert.equal(r.status, 201, JSON.stringify(j));
  return { ...o, code: j.code, pin: j.pin };
}

describe('field work on a phone', () => {
  before(async () => {
    browser = await launch();
    vol = await person(browser, 'volunteer-phone', PHONE);
    hh = await person(browser, 'owner-phone', PHONE);
    const p = await vol.page(); // one sign-in for the volunteer's phone: its cookie serves every test
    await signIn(p, TOKENS.volunteer, 'volunteer.html');
    await p.close();
  });
  after(async () => {
    await browser?.close();
  });

  it('an owner types the code loosely, mistypes the PIN and is told what to do', async () => {
    const h = await household(27, 'Đỗ Thị Lan');
    const page = await hh.page();
    await page.goto(BASE + '/owner.html');
    // a malformed code is said beside the code, and is no guess
    await page.fill('#code', 'TH 2026');
    await page.fill('#pin', '123456');
    await page.click('#lookup button[type=submit]');
    await page.waitForSelector('#code-error');
    assert.match(await page.textContent('#code-error'), /TH-2026-00037/);
    // "th 2026 00037": normalised in the field
    const loose = 'th ' + h.code.slice(3, 7) + ' ' + h.code.slice(8);
    await page.fill('#code', loose);
    const wrong = h.pin === '111111' ? '222222' : '111111';
    await page.fill('#pin', wrong);
    await page.click('#lookup button[type=submit]');
    await page.waitForSelector('#pin-error');
    assert.equal(await page.inputValue('#code'), h.code);
    assert.match(await page.textContent('#pin-error'), /Còn 2 lần thử/);
    await page.fill('#pin', wrong);
    await page.click('#lookup button[type=submit]');
    await page.waitForFunction(() => /Còn 1 lần thử/.test(document.getElementById('pin-error')?.textContent || ''));
    await page.fill('#pin', wrong);
    await page.click('#lookup button[type=submit]');
    await page.waitForFunction(() => /đợi 1 phút/.test(document.getElementById('pin-error')?.textContent || ''));
    // whom to ask when the PIN is lost
    await page.click('#forgot-pin summary');
    assert.match(await page.textContent('#forgot-pin'), /tình nguyện viên/);
    assert.match(await page.textContent('#forgot-pin'), /CCCD/);
    await screenshots(page, 'owner-wait');
    hh.allow(/status of (400|401|429)/);
    hh.check();
  });

  it('a volunteer finds households: newest first, Xem thêm, code, phone, name, filters', async () => {
    const made = [];
    for (let i = 0; i < 21; i++) made.push(await household(i === 0 ? 52 : 24, i === 20 ? 'Trịnh Thị Thu' : 'Phạm Văn Nam'));
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    // newest first: the last made is on top; 20 a page, then "Xem thêm"
    await page.waitForSelector(`#households li[data-code="${made[20].code}"]`);
    assert.equal(await page.getAttribute('#households li:first-child', 'data-code'), made[20].code);
    const first = await page.$$eval('#households li[data-code]', (l) => l.length);
    assert.equal(first, 20);
    assert.ok(await page.isVisible('#hh-more'));
    await page.click('#hh-more');
    await page.waitForFunction(() => document.querySelectorAll('#households li[data-code]').length > 20);
    // each row: birth year and a masked phone, and whether it counts
    const row = await page.textContent(`#households li[data-code="${made[20].code}"]`);
    assert.match(row, new RegExp('Sinh năm ' + made[20].birth.slice(-4)));
    assert.match(row, /ĐT [0-9]+\*+[0-9]+/);
    assert.ok(!row.includes(made[20].phone), 'the phone is masked');
    assert.match(row, /Thanh niên \(\d+ tuổi\) – tính chỉ tiêu/);
    // by code as typed
    await page.fill('#hh-q', made[5].code.toLowerCase().replace(/-/g, ' '));
    await page.click('#hh-search button[type=submit]');
    await page.waitForFunction((c) => { const l = document.querySelectorAll('#households li[data-code]'); return l.length === 1 && l[0].dataset.code === c; }, made[5].code);
    // by phone, exactly
    await page.fill('#hh-q', made[7].phone);
    await page.click('#hh-search button[type=submit]');
    await page.waitForFunction((c) => { const l = document.querySelectorAll('#households li[data-code]'); return l.length === 1 && l[0].dataset.code === c; }, made[7].code);
    // by name without the marks
    await page.fill('#hh-q', 'trinh thi thu');
    await page.click('#hh-search button[type=submit]');
    await page.waitForFunction((c) => [...document.querySelectorAll('#households li[data-code]')].some((l) => l.dataset.code === c), made[20].code);
    // "không phải thanh niên"
    await page.fill('#hh-q', '');
    await page.check('#f-notyouth');
    await page.click('#hh-search button[type=submit]');
    await page.waitForFunction((c) => [...document.querySelectorAll('#households li[data-code]')].some((l) => l.dataset.code === c), made[0].code);
    const labels = await page.$$eval('#households [data-role=youth]', (l) => l.map((x) => x.textContent));
    assert.ok(labels.length > 0 && labels.every((t) => /Ngoài độ tuổi – không tính/.test(t)), labels.join('|'));
    await page.uncheck('#f-notyouth');
    await screenshots(page, 'volunteer-search');
    vol.check();
  });

  it('says youth and progress at a glance, with no empty pink box', async () => {
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    // the consent mismatch box is hidden and takes no room
    assert.equal(await page.isVisible('#consent-mismatch'), false);
    assert.equal(await page.$eval('#consent-mismatch', (e) => e.getBoundingClientRect().height), 0);
    // "Tiến độ xã của bạn"
    await page.waitForSelector('#my-progress [data-metric]');
    assert.match(await page.textContent('#progress-card'), /Tiến độ xã của bạn/);
    const o = owner(25);
    await page.fill('#birth_date', o.birth);
    await page.waitForSelector('#birth-youth [data-role=youth]');
    assert.match(await page.textContent('#birth-youth'), /Thanh niên \(25 tuổi\) – tính chỉ tiêu/);
    await page.fill('#birth_date', '05/03/1960');
    await page.waitForFunction(() => /Ngoài độ tuổi – không tính/.test(document.getElementById('birth-youth').textContent));
    // register: the receipt says it too, and the code is never broken
    await page.fill('#owner_name', 'Lò Văn Tú');
    await page.fill('#birth_date', o.birth);
    await page.fill('#cccd', o.cccd);
    await page.fill('#phone', o.phone);
    await page.selectOption('#commune_code', COMMUNE);
    await page.check('#consent');
    await page.click('#register-submit');
    await page.waitForSelector('#receipt [data-role=pin]');
    assert.match(await page.textContent('#receipt'), /Thanh niên \(25 tuổi\) – tính chỉ tiêu/);
    assert.match(await page.textContent('#receipt [data-role=forgot]'), /Khi quên PIN/);
    assert.equal(await page.$eval('#receipt [data-role=code]', (e) => getComputedStyle(e).whiteSpace), 'nowrap');
    const lines = await page.$eval('#receipt [data-role=code]', (e) => e.getClientRects().length);
    assert.equal(lines, 1);
    await screenshots(page, 'volunteer-receipt-youth');
    vol.check();
  });

  it('shrinks a big photo in the browser and keeps an upload error visible', async () => {
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    const h = await household(26, 'Hà Thị Mai');
    const pr = await fetch(BASE + `/v1/households/${h.code}/products`, {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Nem chua Thanh Hóa', description: 'Nem chua làm từ thịt lợn tươi, gói lá chuối', category: 'food_dish', price_vnd: 50000, weight_g: 300, stock: 10 }),
    });
    const prod = await pr.json();
    assert.equal(pr.status, 201, JSON.stringify(prod));
    await page.fill('#hh-q', h.code);
    await page.click('#hh-search button[type=submit]');
    await page.click(`#households li[data-code="${h.code}"] button`);
    await page.waitForSelector(`li[data-product="${prod.id}"]`);
    assert.match(await page.textContent(`li[data-product="${prod.id}"]`), /1600 điểm ảnh/);
    // a 4000 × 3000 photo, as a phone takes it (PNG bytes drawn in the page)
    const big = await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 4000; c.height = 3000;
      const g = c.getContext('2d');
      for (let i = 0; i < 60; i++) { g.fillStyle = `hsl(${i * 6},70%,50%)`; g.fillRect((i * 67) % 4000, (i * 53) % 3000, 700, 500); }
      const b = await new Promise((r) => c.toBlob(r, 'image/png'));
      return [...new Uint8Array(await b.arrayBuffer())];
    });
    await page.setInputFiles(`#photo-${prod.id}`, { name: 'IMG_0001.png', mimeType: 'image/png', buffer: Buffer.from(big) });
    await page.waitForFunction((id) => /Đã tải/.test(document.querySelector(`li[data-product="${id}"] .upload-list`)?.textContent || ''), prod.id, { timeout: 20000 });
    const got = await (await fetch(BASE + `/v1/products/${prod.id}`, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } })).json();
    assert.equal(got.images.length, 1);
    assert.equal(got.images[0].mime, 'image/jpeg');
    const size = await page.evaluate((u) => new Promise((res) => { const i = new Image(); i.onload = () => res([i.naturalWidth, i.naturalHeight]); i.src = u; }), got.images[0].url);
    assert.deepEqual(size, [1600, 1200]);
    assert.ok(got.images[0].bytes < 1_000_000, 'a few hundred KB at most on a slow link');
    // a file that is no photo: the error stays after the card is redrawn
    await page.setInputFiles(`#photo-${prod.id}`, { name: 'ghi-chu.png', mimeType: 'image/png', buffer: Buffer.from('không phải ảnh') });
    await page.waitForSelector(`li[data-product="${prod.id}"] .upload-list .note-error`);
    await page.waitForTimeout(600);
    assert.ok(await page.isVisible(`li[data-product="${prod.id}"] .upload-list .note-error`));
    vol.allow(/status of (415|422|400)/);
    // full edit: category, weight, flagship; photos can be removed
    await page.click(`li[data-product="${prod.id}"] details summary`);
    await page.fill(`#e-weight-${prod.id}`, '450');
    await page.click(`li[data-product="${prod.id}"] details button[type=submit]`);
    await page.waitForFunction((id) => fetch(`/v1/products/${id}`).then((r) => r.json()).then((p) => p.weight_g === 450), prod.id);
    await screenshots(page, 'volunteer-photos');
    vol.check();
  });

  it('works without a signal: opens offline, keeps a household encrypted, sends it once', async () => {
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the service worker serves the page');
    const manifest = await (await fetch(BASE + '/manifest.webmanifest')).json();
    assert.equal(manifest.lang, 'vi');
    await vol.context.setOffline(true);
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    assert.ok(await page.isVisible('#offline-banner'));
    const o = owner(23);
    await page.fill('#owner_name', 'Bùi Thị Nga');
    await page.fill('#birth_date', o.birth);
    await page.fill('#cccd', o.cccd);
    await page.fill('#phone', o.phone);
    await page.selectOption('#commune_code', COMMUNE);
    await page.check('#consent');
    await page.click('#register-submit');
    await page.waitForSelector('[data-role=kept]');
    const kept = await page.evaluate(() => localStorage.getItem('choso.outbox'));
    assert.ok(kept, 'kept on the phone');
    for (const secret of [o.cccd, o.phone, 'Bùi Thị Nga', 'B\\u00f9i']) assert.ok(!kept.includes(secret), 'kept encrypted');
    assert.ok(await page.evaluate(() => !!sessionStorage.getItem('choso.outbox.key')), 'the key lives in the session');
    await screenshots(page, 'volunteer-offline');
    await vol.context.setOffline(false);
    await page.waitForSelector('#outbox-result .receipt [data-role=code]', { timeout: 20000 }).catch(async (e) => {
      await screenshots(page, 'volunteer-offline-failed');
      throw new Error(e.message + ' — page says: ' + (await page.textContent('main')).slice(0, 600));
    });
    const code = (await page.textContent('#outbox-result .receipt [data-role=code]')).trim();
    assert.equal(await page.evaluate(() => localStorage.getItem('choso.outbox')), null, 'deleted once sent');
    // the same kept entry sent again (as when the first answer was lost): nothing created twice
    await page.evaluate((k) => localStorage.setItem('choso.outbox', k), kept);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForFunction(() => document.querySelectorAll('#outbox-result .receipt').length === 2, null, { timeout: 20000 });
    const codes = await page.$$eval('#outbox-result .receipt [data-role=code]', (l) => l.map((x) => x.textContent.trim()));
    assert.deepEqual(codes, [code, code]);
    const found = await (await fetch(BASE + '/v1/households?cccd=' + o.cccd, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } })).json();
    assert.equal(found.items.length, 1);
    // older than 24 hours: dropped unsent
    await page.evaluate((k) => { const l = JSON.parse(k); l[0].at = Date.now() - 25 * 3600 * 1000; localStorage.setItem('choso.outbox', JSON.stringify(l)); }, kept);
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForFunction(() => localStorage.getItem('choso.outbox') === null);
    vol.allow(/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::/);
    vol.check();
  });

  it('says why a volunteer is sent back from the dashboard; the pack page reads on a phone', async () => {
    const page = await vol.page();
    await page.goto(BASE + '/dashboard.html');
    await page.waitForURL(/index\.html\?denied=dashboard\.html/);
    await page.waitForSelector('#denied [role=alert]');
    assert.match(await page.textContent('#denied'), /không được mở trang Bảng theo dõi/);
    // the registration pack: a viewport, and its look from a file the CSP allows
    const h = await household(29, 'Lương Văn Hải');
    const acc = await fetch(BASE + `/v1/households/${h.code}/accounts`, { method: 'POST', headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' }, body: JSON.stringify({ marketplace: 'postmart' }) });
    assert.ok([200, 201, 202].includes(acc.status), String(acc.status));
    await page.goto(BASE + `/v1/households/${h.code}/accounts/postmart/pack.html`);
    assert.ok(await page.$('meta[name=viewport]'));
    assert.equal(await page.$eval('table', (t) => getComputedStyle(t).borderCollapse), 'collapse');
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 1, `the pack page is ${over} px wider than the phone`);
    vol.check();
  });

  it('fixes a household: edits it, opens the duplicate, withdraws consent with confirmation', async () => {
    const h = await household(31, 'Cao Thị Huệ');
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    await page.fill('#hh-q', h.code);
    await page.click('#hh-search button[type=submit]');
    await page.click(`#households li[data-code="${h.code}"] button`);
    await page.waitForSelector('#household-card:not([hidden])');
    await page.click('#hh-edit-open');
    await page.fill('#ed-address', 'Thôn 3, số 45');
    const newPhone = '098' + h.phone.slice(3);
    await page.fill('#ed-phone', newPhone);
    await page.click('#hh-edit button[type=submit]');
    await page.waitForFunction(() => /Đã lưu thông tin hộ/.test(document.getElementById('hh-edit-area').textContent));
    const got = await (await fetch(BASE + '/v1/households/' + h.code, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } })).json();
    assert.equal(got.address, 'Thôn 3, số 45');
    assert.equal(got.phone, newPhone);
    // the same citizen ID registered again: "Mở hộ TH-…"
    await page.fill('#owner_name', 'Cao Thị Huệ');
    await page.fill('#birth_date', h.birth);
    await page.fill('#cccd', h.cccd);
    await page.fill('#phone', h.phone);
    await page.selectOption('#commune_code', COMMUNE);
    await page.check('#consent');
    await page.click('#register-submit');
    await page.waitForSelector('#register [data-role=open-existing]');
    assert.equal((await page.textContent('#register [data-role=open-existing]')).trim(), `Mở hộ ${h.code}`);
    vol.allow(/status of 409/);
    await page.click('#register [data-role=open-existing]');
    await page.waitForFunction((c) => document.getElementById('hh-title').textContent.includes(c), h.code);
    // withdrawal of consent: asked first, "Thôi" changes nothing
    await page.click('#hh-withdraw');
    await page.click('#hh-edit-area [role=alertdialog] button.secondary');
    assert.equal((await (await fetch(BASE + '/v1/households/' + h.code, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } })).json()).status, 'registered');
    await page.click('#hh-withdraw');
    await screenshots(page, 'volunteer-withdraw');
    await page.click('#hh-edit-area [role=alertdialog] button.danger');
    await page.waitForFunction(() => document.getElementById('household-card').hidden);
    assert.match(await page.textContent('#receipt-area'), /Đã xoá dữ liệu cá nhân/);
    const gone = await (await fetch(BASE + '/v1/households/' + h.code, { headers: { Authorization: 'Bearer ' + TOKENS.volunteer } })).json();
    assert.equal(gone.status, 'erased');
    assert.equal(gone.phone, undefined);
    vol.check();
  });

  it('publishes only where the household has a shop, and the card follows the review by itself', async () => {
    const page = await vol.page();
    await page.goto(BASE + '/volunteer.html');
    await page.waitForSelector('body[data-ready="1"]');
    const h = await household(28, 'Lê Văn Bình');
    const call = async (method, path, body) => {
      const r = await fetch(BASE + path, { method, headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
      const j = await r.json();
      assert.ok(r.status < 300, `${path}: ${r.status} ${JSON.stringify(j)}`);
      return j;
    };
    const prod = await call('POST', `/v1/households/${h.code}/products`, { name: 'Chè lam Phủ Quảng', description: 'Chè lam làm từ gạo nếp, gừng và mật mía', category: 'food_dish', price_vnd: 45000, weight_g: 300, stock: 10 });
    await page.fill('#hh-q', h.code);
    await page.click('#hh-search button[type=submit]');
    await page.click(`#households li[data-code="${h.code}"] button`);
    const card = `li[data-product="${prod.id}"]`;
    await page.waitForSelector(card);
    // no active shop: nothing to choose, and says why
    assert.equal(await page.$$eval(`${card} input[name=marketplaces]`, (l) => l.length), 0);
    assert.match(await page.textContent(card), /chưa có gian hàng đang hoạt động/);
    // a shop opened on postmart (assisted): the form offers postmart and nothing else
    await call('POST', `/v1/households/${h.code}/accounts`, { marketplace: 'postmart' });
    const sbPage = async (body) => {
      const r = await fetch(process.env.CHOSO_SHOPEE_BASE_URL + '/__sandbox/pages', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ marketplace: 'postmart', ...body }) });
      assert.ok(r.ok, 'simulator page');
      return (await r.json()).url;
    };
    const shopUrl = await sbPage({ kind: 'shop', id: h.code, title: 'Gian hàng ' + h.code });
    await call('POST', `/v1/households/${h.code}/accounts/postmart/confirm`, { shop_url: shopUrl, shop_name: 'Gian hàng ' + h.code });
    for (let i = 0; i < 80; i++) {
      const a = await call('GET', `/v1/seller-accounts?household=${h.code}&marketplace=postmart`);
      if (a.items?.[0]?.state === 'active') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.click(`#households li[data-code="${h.code}"] button`);
    await page.waitForSelector(`${card} input[name=marketplaces]`);
    assert.deepEqual(await page.$$eval(`${card} input[name=marketplaces]`, (l) => l.map((i) => i.value)), ['postmart']);
    await page.check(`${card} input[name=marketplaces][value=postmart]`);
    await page.click(`${card} form[data-role=publish] button[type=submit]`);
    // the answer stays after the card redraws; the listing waits, with no form to send it twice
    await page.waitForSelector(`${card} li[data-marketplace=postmart]`);
    assert.match(await page.textContent(`${card} [data-role=publish-out]`), /đã gửi yêu cầu đăng/);
    assert.equal(await page.$$eval(`${card} input[name=marketplaces]`, (l) => l.length), 0);
    // the marketplace refuses it (no photo): the card shows it by itself, the reason once, and a
    // button that does what it says
    const li = `${card} li[data-marketplace=postmart]`;
    await page.waitForFunction((s) => /Bị sàn từ chối/.test(document.querySelector(s)?.textContent || ''), li, { timeout: 15000 });
    const reason = 'Ảnh 1 (ảnh chính)';
    const text = await page.textContent(li);
    assert.equal(text.split(reason).length - 1, 1, text);
    assert.equal(await page.$$eval(`${li} button`, (l) => l.map((b) => b.textContent.trim()).join('|')), 'Gửi lại sau khi sửa');
    // fixed (a photo), then sent again with that button
    await page.setInputFiles(`#photo-${prod.id}`, { name: 'che-lam.png', mimeType: 'image/png', buffer: await photo(page) });
    await page.waitForFunction((id) => /Đã tải/.test(document.querySelector(`li[data-product="${id}"] .upload-list`)?.textContent || ''), prod.id, { timeout: 20000 });
    await page.click(`${li} button:has-text("Gửi lại sau khi sửa")`);
    let listing;
    for (let i = 0; i < 60; i++) {
      listing = (await call('GET', `/v1/products/${prod.id}`)).listings.find((l) => l.marketplace === 'postmart');
      if (['submitted', 'pending_review'].includes(listing.state)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(['submitted', 'pending_review'].includes(listing.state), JSON.stringify(listing));
    // confirmed elsewhere (another phone): the card shows the listing's link by itself
    const url = await sbPage({ kind: 'product', id: 'CS-' + listing.id, title: 'Chè lam Phủ Quảng - hàng chính hãng' });
    await call('POST', `/v1/listings/${listing.id}/confirm`, { listing_url: url });
    await page.waitForFunction(([c, u]) => document.querySelector(`${c} a[href="${u}"]`), [card, url], { timeout: 15000 });
    // verified by the worker: on sale, with its link, still without a touch
    await page.waitForFunction((s) => /Đang bán/.test(document.querySelector(s)?.textContent || ''), li, { timeout: 20000 });
    assert.ok(await page.$(`${li} a[href="${url}"]`));
    await screenshots(page, 'volunteer-publish');
    vol.check();
  });
});
