// tests/browser/pages.test.mjs: rules of the web room read straight from its files (no browser,
// no server): data never becomes markup (no innerHTML and friends, no inline handlers), nothing
// inline that the CSP would block, no resource from another origin, every form control has a
// label, the pages are Vietnamese, and every page and script the pages name exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const files = readdirSync(WEB);
const html = files.filter((f) => f.endsWith('.html'));
const js = files.filter((f) => f.endsWith('.js'));
const read = (f) => readFileSync(join(WEB, f), 'utf8');

test('scripts build the page from text only', () => {
  assert.ok(js.length >= 5);
  for (const f of js) {
    const src = read(f).replace(/^\s*\/\/.*$/gm, '');
    for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setAttribute(\'on', '.style.cssText'])
      assert.ok(!src.includes(bad), `${f} uses ${bad}`);
  }
});

test('pages: no inline script or style, nothing from another origin, Vietnamese', () => {
  assert.deepEqual(html.sort(), ['categories.html', 'dashboard.html', 'flagship.html', 'index.html', 'owner.html', 'volunteer.html', 'volunteers.html']);
  for (const f of html) {
    const t = read(f);
    assert.match(t, /<html lang="vi">/, f);
    assert.match(t, /<meta name="viewport" content="width=device-width, initial-scale=1">/, f);
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(t), `${f}: inline <script>`);
    assert.ok(!/<style/.test(t), `${f}: <style>`);
    assert.ok(!/\sstyle=/.test(t), `${f}: style attribute`);
    assert.ok(!/\son[a-z]+=/.test(t), `${f}: inline event handler`);
    for (const m of t.matchAll(/\s(?:src|href|action)="([^"]*)"/g)) {
      const u = m[1];
      assert.ok(!/^(?:[a-z]+:)?\/\//i.test(u), `${f}: ${u} is on another origin`);
      assert.ok(!/^javascript:/i.test(u), `${f}: ${u}`);
      // a file of this room must exist (API paths are served by choso)
      if (!u.startsWith('/v1/') && !u.startsWith('#') && u) assert.ok(existsSync(join(WEB, u.split(/[?#]/)[0])), `${f}: ${u} missing`);
    }
  }
  for (const f of [...js, 'app.css']) {
    const t = read(f);
    assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)[a-z0-9]/i.test(t.replace(/^\s*\/\/.*$/gm, '')), `${f}: address of another origin`);
    assert.ok(!/@import|url\(\s*['"]?https?:/.test(t), `${f}: external CSS`);
  }
});

test('forms post: a page whose script did not load never puts a token, PIN or citizen ID in an address', () => {
  for (const f of html) for (const m of read(f).matchAll(/<form\b[^>]*>/g)) assert.match(m[0], /method="post"/, `${f}: ${m[0]}`);
});

test('every form control has a label', () => {
  for (const f of html) {
    const t = read(f);
    const ids = new Set([...t.matchAll(/<label[^>]*\bfor="([^"]+)"/g)].map((m) => m[1]));
    for (const m of t.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
      const attrs = m[2];
      if (/type="(hidden|submit)"/.test(attrs)) continue;
      const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
      // either <label for=id> or the control inside its <label class="inline">
      const wrapped = new RegExp(`<label[^>]*>\\s*<${m[1]}\\b[^>]*id="${id}"`).test(t);
      assert.ok(id && (ids.has(id) || wrapped), `${f}: <${m[1]}${attrs}> has no label`);
    }
  }
});

test('the consent text is versioned and says how to withdraw', () => {
  const t = read('volunteer.html');
  const v = /id="consent-text" data-version="([^"]+)"/.exec(t)?.[1];
  assert.ok(v, 'data-version on the consent text');
  assert.ok(t.includes(`<span id="consent-version-label">${v}</span>`), 'the version shown is the one sent');
  const def = readFileSync(join(WEB, '..', 'core', 'config.def'), 'utf8');
  assert.match(def, new RegExp(`X\\("consent\\.version", STR, "${v.replace('.', '\\.')}"`), 'the text matches the default consent.version');
  assert.match(t, /rút lại sự đồng ý/);
  assert.match(t, /Nghị định 13\/2023\/NĐ-CP/);
});
