// tests/browser/pins.test.mjs: PINs for imported households at once and their receipts, one per
// A6 page (issue 13 point 8), on a 360 px phone: a spreadsheet of households (which get no PIN)
// is uploaded, the list turns to "chưa có PIN", the volunteer ticks them, issues their PINs in
// one action and prints — the printout is checked as Chromium lays it out on paper (page size
// and count of the PDF). No request leaves 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, TOKENS, launch, person, screenshots, signIn, owner } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
const COMMUNE = '14797';
let browser, vol;

// PDF facts without a PDF library: page objects and their MediaBox (points).
function pdfPages(buf) {
  const text = buf.toString('latin1');
  const pages = text.match(/\/Type\s*\/Page(?!s)/g) || [];
  const boxes = [...text.matchAll(/\/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]/g)]
    .map((m) => [Number(m[3]) - Number(m[1]), Number(m[4]) - Number(m[2])]);
  return { count: pages.length, boxes };
}

describe('PINs for imported households, receipts one per A6 page', () => {
  before(async () => {
    browser = await launch();
    vol = await person(browser, 'volunteer-pins', PHONE);
  });
  after(async () => {
    await browser?.close();
  });

  it('imports households, issues their PINs in one action and prints one receipt per A6 page', async () => {
    const page = await vol.page();
    await signIn(page, TOKENS.volunteer, 'volunteer.html');
    // names unique in this run (letters only: a digit in a name is refused)
    const tag = [...String(Date.now() % 100000)].map((d) => 'abcdeghikl'[Number(d)]).join('');
    const names = [`Lò Văn Pín ${tag}`, `Hà Thị Phiếu ${tag}`, `Cầm Bá In ${tag}`];
    const rows = names.map((n, i) => {
      const o = owner(24 + i);
      return `${n},${o.cccd},${o.phone},${o.birth},${COMMUNE},có`;
    });
    const csv = 'owner_name,cccd,phone,birth_date,commune_code,consent\n' + rows.join('\n') + '\n';
    await page.selectOption('#imp-kind', 'households');
    await page.setInputFiles('#imp-file', { name: 'ho-nhap.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.click('#import button[type=submit]');
    await page.waitForSelector('#import-status [data-state=done]', { timeout: 60000 });
    assert.match(await page.textContent('#import-status [data-count=created]'), /mới: 3/);
    // the list now shows the households without a PIN, each with its tick box
    await page.click('#import-status [data-role=import-pins]');
    assert.equal(await page.isChecked('#f-nopin'), true);
    for (const n of names) await page.waitForSelector(`#households li:has-text("${n}") input[data-role=pin-pick]`);
    assert.equal(await page.isVisible('#pin-batch'), true);
    assert.equal(await page.isDisabled('#pin-batch-issue'), true, 'nothing chosen yet');
    const codes = [];
    for (const n of names) {
      const li = page.locator(`#households li:has-text("${n}")`);
      codes.push(await li.getAttribute('data-code'));
      await li.locator('input[data-role=pin-pick]').check();
    }
    assert.match(await page.textContent('#pin-batch-issue'), /Cấp PIN cho 3 hộ đã chọn/);
    await page.click('#pin-batch-issue');
    await page.waitForSelector('#pin-sheet .receipt');
    assert.match(await page.textContent('[data-role=batch-summary]'), /Đã cấp PIN cho 3 hộ/);
    const receipts = await page.$$eval('#pin-sheet .receipt', (rs) => rs.map((r) => ({
      code: r.querySelector('[data-role=code]').textContent,
      pin: r.querySelector('[data-role=pin]').textContent,
      owner: r.querySelector('[data-role=owner]').textContent,
      commune: r.querySelector('[data-role=commune]').textContent,
      url: r.querySelector('[data-role=url]').textContent,
      todo: r.querySelector('[data-role=todo]').textContent,
      codeLines: Math.round(r.querySelector('[data-role=code]').getBoundingClientRect().height / parseFloat(getComputedStyle(r.querySelector('[data-role=code]')).lineHeight || '20')),
    })));
    assert.equal(receipts.length, 3);
    assert.deepEqual(receipts.map((r) => r.code).sort(), [...codes].sort());
    for (const r of receipts) {
      assert.match(r.pin, /^\d{6}$/);
      assert.ok(names.includes(r.owner), r.owner);
      assert.ok(r.commune.length > 0);
      assert.ok(r.url.endsWith('/owner.html#code=' + r.code), r.url);
      assert.match(r.todo, /mã PIN/);
      assert.ok(r.codeLines <= 1, `${r.code} on one line`);
    }
    // each PIN opens its owner's page
    for (const r of receipts) {
      const s = await fetch(`${BASE}/v1/status/${r.code}`, { headers: { 'X-Owner-Pin': r.pin } });
      assert.equal(s.status, 200, r.code);
    }
    // the list no longer offers them: they have a PIN now
    for (const n of names) await page.waitForSelector(`#households li:has-text("${n}")`, { state: 'detached' });
    await screenshots(page, 'volunteer-pin-batch');

    // printing: the button marks the page for the batch and asks the browser to print
    await page.evaluate(() => { window.print = () => { window.__printed = document.body.classList.contains('print-batch'); }; });
    await page.click('[data-role=print-batch]');
    assert.equal(await page.evaluate(() => window.__printed), true);
    await page.emulateMedia({ media: 'print' });
    const rules = await page.$$eval('#pin-sheet .receipt', (rs) => rs.map((r) => {
      const cs = getComputedStyle(r);
      return { after: cs.breakAfter, inside: cs.breakInside };
    }));
    assert.deepEqual(rules.map((r) => r.inside), ['avoid', 'avoid', 'avoid']);
    assert.deepEqual(rules.map((r) => r.after), ['page', 'page', 'auto']);
    const hidden = await page.evaluate(() => ['register-card', 'progress-card', 'hh-search', 'households', 'pin-batch']
      .filter((id) => document.getElementById(id) && getComputedStyle(document.getElementById(id)).display !== 'none'));
    assert.deepEqual(hidden, [], 'only the receipts go on paper');
    const bytes = await page.pdf({ preferCSSPageSize: true, printBackground: false });
    writeFileSync(join(process.env.CHOSO_ARTIFACTS || 'tests/artifacts', 'pin-receipts.pdf'), bytes);
    const pdf = pdfPages(bytes);
    assert.equal(pdf.count, 3, `one page per receipt: ${JSON.stringify(pdf.boxes)}`);
    for (const [w, h] of pdf.boxes) {
      // A6 = 105 × 148 mm = 297.6 × 419.5 pt
      assert.ok(Math.abs(w - 297.6) < 2 && Math.abs(h - 419.5) < 2, `A6 page, got ${w} × ${h} pt: ${JSON.stringify(pdf.boxes)} ${pdf.count}`);
    }
    await page.emulateMedia({ media: 'screen' });
    vol.check();
    await page.close();
  });

  it('answers a retried batch without issuing twice (API, volunteer token)', async () => {
    const o = owner(30);
    const r = await fetch(BASE + '/v1/households', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json' },
      body: JSON.stringify({ owner_name: 'Vi Văn Có Pin', cccd: o.cccd, phone: o.phone, birth_date: o.birth, commune_code: COMMUNE, consent: true, consent_version: '2025-01' }),
    });
    const h = await r.json();
    assert.equal(r.status, 201, JSON.stringify(h));
    const b = await fetch(BASE + '/v1/households/pins', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + TOKENS.volunteer, 'Content-Type': 'application/json', 'Idempotency-Key': 'browser-pins-' + Date.now() },
      body: JSON.stringify({ codes: [h.code] }),
    });
    const j = await b.json();
    assert.equal(b.status, 200);
    assert.deepEqual(j.issued, []);
    assert.deepEqual(j.skipped, [{ code: h.code, reason: 'pin_set' }], 'a PIN handed out is never replaced');
  });
});
