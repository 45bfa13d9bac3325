// tests/browser/volunteers.test.mjs: the admin's volunteers page at 360 px (issue 13) — add one
// and many (CSV), each with a one-time link and its QR code; the link signs a phone in once (a
// second phone is refused), the admin signs the volunteer out of every device, and the
// volunteer's own "Đăng xuất mọi thiết bị" ends the session. No request leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, launch, person, screenshots, signIn } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
let browser, admin, vol, other;

// The link of the newest card, on this server (the fragment is what matters; http.public_url
// of the test server may name another host).
async function newestLink(page) {
  const url = await page.inputValue('#links .signin-link input');
  const m = /#link=([A-Za-z0-9_-]+)$/.exec(url);
  assert.ok(m, url);
  return BASE + '/#link=' + m[1];
}

describe('volunteers on the admin page', () => {
  before(async () => {
    browser = await launch();
    admin = await person(browser, 'admin-phone', PHONE);
    vol = await person(browser, 'volunteer-link', PHONE);
    other = await person(browser, 'someone-else', PHONE);
    const p = await admin.page();
    await signIn(p, TOKENS.admin, 'dashboard.html');
    await p.close();
  });
  after(async () => {
    await browser?.close();
  });

  it('adds a volunteer, the link signs one phone in once, the admin signs it out', async () => {
    const page = await admin.page();
    page.on('dialog', (d) => d.accept());
    await page.goto(BASE + '/volunteers.html');
    await page.waitForSelector('body[data-ready="1"]');
    await page.fill('#name', 'Lò Thị Hiền');
    await page.fill('#phone', '0987 654 321');
    // the commune picker: searched by name without accents, then by code; ticked ones are chips
    await page.fill('#commune-q', 'hac thanh');
    await page.check('#commune-options input[value="14797"]');
    await page.fill('#commune-q', '16531');
    await page.check('#commune-options input[value="16531"]');
    assert.deepEqual(await page.$$eval('#commune-chosen li[data-code]', (ls) => ls.map((l) => l.dataset.code)), ['14797', '16531']);
    // a chip comes off with its ✕, and back on
    await page.click('#commune-chosen li[data-code="16531"] button');
    assert.deepEqual(await page.$$eval('#commune-chosen li[data-code]', (ls) => ls.map((l) => l.dataset.code)), ['14797']);
    assert.equal(await page.isChecked('#commune-options input[value="16531"]'), false);
    await page.check('#commune-options input[value="16531"]');
    await page.click('#add button[type=submit]');
    await page.waitForSelector('#links .signin-link img.qr');
    // the QR code is drawn (an SVG from the server through a blob: URL, allowed by the CSP)
    await page.waitForFunction(() => document.querySelector('#links img.qr').naturalWidth > 0);
    const link = await newestLink(page);
    await page.waitForSelector('#list li[data-id]');
    assert.match(await page.textContent('#list'), /Lò Thị Hiền/);
    assert.match(await page.textContent('#list'), /0987654321/);
    assert.match(await page.locator('#list li', { hasText: 'Lò Thị Hiền' }).textContent(), /Xã: 14797, 16531/);
    assert.equal(await page.$$eval('#commune-chosen li[data-code]', (ls) => ls.length), 0, 'the picker is empty for the next one');
    await screenshots(page, 'volunteers-admin');

    // the volunteer's phone: the link opens the volunteer page, the address loses the link
    const vp = await vol.page();
    await vp.goto(link);
    await vp.waitForURL(/volunteer\.html/);
    await vp.waitForSelector('body[data-ready="1"]');
    assert.ok(!vp.url().includes('link='));
    assert.match(await vp.textContent('#userbar'), /Lò Thị Hiền/);

    // the same link on another phone: refused, said in Vietnamese
    const op = await other.page();
    await op.goto(link);
    await op.waitForSelector('#link-status .note-error');
    assert.match(await op.textContent('#link-status'), /đã dùng hoặc đã hết hạn/);
    await screenshots(op, 'volunteers-link-used');
    other.allow(/status of 401/);
    other.check();

    // the admin: "Đăng xuất mọi thiết bị" for this volunteer → the phone is sent to sign in
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    const row = page.locator('#list li', { hasText: 'Lò Thị Hiền' });
    assert.match(await row.textContent(), /Thiết bị đang đăng nhập: 1/);
    await row.getByRole('button', { name: 'Đăng xuất mọi thiết bị' }).click();
    await page.waitForFunction(() => /Đã đăng xuất/.test(document.getElementById('status').textContent));
    await vp.reload();
    await vp.waitForURL(/index\.html/);
    vol.allow(/status of 401/);
    vol.check();
    admin.check();
  });

  it('adds many from a CSV and a volunteer signs out of every device', async () => {
    const page = await admin.page();
    page.on('dialog', (d) => d.accept());
    await page.goto(BASE + '/volunteers.html');
    await page.waitForSelector('body[data-ready="1"]');
    const csv = '\uFEFFho_ten,so_dien_thoai,ma_xa\r\nHoàng Văn Tú,0912 111 222,14797\r\n"Vi Thị Nga, xóm Mới",,14797;16522\r\n';
    await page.setInputFiles('#sheet', { name: 'tnv.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForFunction(() => /Đã thêm 2 người/.test(document.getElementById('sheet-status').textContent));
    assert.equal(await page.locator('#links .signin-link').count(), 2);
    const url = await page.locator('#links .signin-link input').nth(1).inputValue();
    const link = BASE + '/#link=' + /#link=([A-Za-z0-9_-]+)$/.exec(url)[1];
    await screenshots(page, 'volunteers-csv');

    const vp = await vol.page();
    vp.on('dialog', (d) => d.accept());
    await vp.goto(link);
    await vp.waitForURL(/volunteer\.html/);
    await vp.waitForSelector('body[data-ready="1"]');
    assert.match(await vp.textContent('#userbar'), /Vi Thị Nga/);
    await Promise.all([vp.waitForURL(/index\.html/), vp.click('#signout-all')]);
    // the session is gone on the server too
    await vp.goto(BASE + '/volunteer.html');
    await vp.waitForURL(/index\.html/);
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    assert.match(await page.locator('#list li', { hasText: 'Vi Thị Nga' }).textContent(), /Thiết bị đang đăng nhập: 0/);
    vol.allow(/status of 401/);
    vol.check();
    admin.check();
  });

  it('searches the communes without accents and pages the list with "Xem thêm"', async () => {
    // 45 more volunteers through the API: three pages of 20
    for (let i = 0; i < 45; i++) {
      const r = await fetch(BASE + '/v1/volunteers', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + TOKENS.admin, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Người Thứ ' + 'abcdeghiklmnopqrstuvxy'[i % 22] + 'abcdeghiklmnopqrstuvxy'[Math.floor(i / 22)], communes: ['14797'] }),
      });
      assert.equal(r.status, 201, await r.text());
    }
    const page = await admin.page();
    await page.goto(BASE + '/volunteers.html');
    await page.waitForSelector('body[data-ready="1"]');
    const ids = () => page.$$eval('#list li[data-id]', (ls) => ls.map((l) => Number(l.dataset.id)));
    assert.equal((await ids()).length, 20);
    assert.ok(await page.isVisible('#more'));
    await page.click('#more');
    await page.waitForFunction(() => document.querySelectorAll('#list li[data-id]').length === 40);
    await page.click('#more');
    await page.waitForFunction(() => document.querySelectorAll('#list li[data-id]').length > 40);
    await page.waitForSelector('#more', { state: 'hidden' });
    const all = await ids();
    assert.equal(new Set(all).size, all.length, 'no volunteer twice');
    assert.deepEqual(all, [...all].sort((a, b) => b - a), 'newest first');
    const total = (await (await fetch(BASE + '/v1/volunteers?limit=200', { headers: { Authorization: 'Bearer ' + TOKENS.admin } })).json()).items.length;
    assert.equal(all.length, total);
    // "sam son" finds Phường Sầm Sơn; a place that does not exist says so
    await page.fill('#commune-q', 'sam son');
    assert.match(await page.textContent('#commune-options'), /Phường Sầm Sơn/);
    await page.fill('#commune-q', 'khong co noi nay');
    assert.match(await page.textContent('#commune-options'), /Không có xã\/phường nào/);
    await screenshots(page, 'volunteers-picker-paging');
    admin.check();
    await page.close();
  });
});
