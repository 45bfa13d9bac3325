// web/volunteers.js: the admin's volunteers page (issue 13) — add one or many (CSV), hand each a
// one-time sign-in link with its QR code, sign a volunteer's devices out, deactivate. The link is
// shown once from the answer and kept nowhere on this page. API: /v1/volunteers…
import { api, el, fill, say, showProblem, clearProblem, requireSession } from './app.js';

const $ = (id) => document.getElementById(id);
const qrUrls = [];

// A link card: the QR code (an SVG made by the server, shown through a blob: URL — no markup
// from data), the address to copy and when it stops working.
function linkCard(name, signin) {
  const url = URL.createObjectURL(new Blob([signin.qr_svg], { type: 'image/svg+xml' }));
  qrUrls.push(url);
  const input = el('input', { type: 'text', readonly: '', value: signin.url, 'aria-label': 'Liên kết đăng nhập của ' + name });
  const copy = el('button', { type: 'button', class: 'secondary small' }, 'Sao chép');
  copy.addEventListener('click', async () => {
    input.select();
    try { await navigator.clipboard.writeText(signin.url); copy.textContent = 'Đã chép'; } catch { copy.textContent = 'Hãy chép thủ công'; }
  });
  const until = new Date(signin.expires_at).toLocaleString('vi-VN');
  return el('div', { class: 'signin-link', 'data-name': name },
    el('h3', {}, name),
    el('img', { class: 'qr', src: url, alt: 'Mã QR đăng nhập của ' + name, width: '200', height: '200' }),
    el('div', { class: 'field' }, input),
    el('div', { class: 'actions' }, copy),
    el('p', { class: 'small muted' }, 'Dùng một lần, hết hạn lúc ', until, '. Gửi riêng cho người này.'));
}

function showLinks(cards) {
  while (qrUrls.length > 40) URL.revokeObjectURL(qrUrls.shift());
  fill($('links'), el('h2', {}, 'Liên kết đăng nhập mới'), ...cards);
  $('links').hidden = false;
  $('links').scrollIntoView({ block: 'nearest' });
}

const splitCodes = (s) => s.split(/[\s,;]+/).filter(Boolean);

async function create(name, phone, communes) {
  const json = { name, communes };
  if (phone) json.phone = phone;
  return api('POST', '/v1/volunteers', { json });
}

// --- the commune picker: search the province's 166 communes/wards by name (accents optional) or
// code, tick several; the chosen ones show as chips that can be taken off -----------------------

let units = []; // { code, name, key }
const chosen = new Map(); // code → name
const fold = (t) => String(t).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();

function drawChosen() {
  fill($('commune-chosen'), [...chosen].map(([code, name]) => {
    const x = el('button', { type: 'button', class: 'secondary small', 'aria-label': `Bỏ ${name}` }, '✕');
    x.addEventListener('click', () => { chosen.delete(code); drawChosen(); drawOptions(); });
    return el('li', { class: 'chip', 'data-code': code }, `${name} (${code}) `, x);
  }));
  if (!chosen.size) fill($('commune-chosen'), el('li', { class: 'muted small' }, 'Chưa chọn xã/phường nào.'));
}

function drawOptions() {
  const q = fold($('commune-q').value.trim());
  const hits = q ? units.filter((u) => u.key.includes(q) || u.code.startsWith(q)) : [];
  fill($('commune-options'), hits.slice(0, 12).map((u) => {
    const box = el('input', { type: 'checkbox', value: u.code, checked: chosen.has(u.code) });
    box.addEventListener('change', () => {
      if (box.checked) chosen.set(u.code, u.name); else chosen.delete(u.code);
      drawChosen();
    });
    return el('li', {}, el('label', { class: 'inline' }, box, ` ${u.name} `, el('span', { class: 'muted small' }, u.code)));
  }), q && hits.length > 12 ? el('li', { class: 'muted small' }, `… và ${hits.length - 12} nơi khác: gõ thêm để thu hẹp.`) : null,
  q && !hits.length ? el('li', { class: 'muted small' }, 'Không có xã/phường nào như vậy.') : null);
}

async function loadUnits() {
  const r = await api('GET', '/v1/admin-units');
  units = r.ok ? r.data.items.map((u) => ({ code: u.code, name: u.name, key: fold(u.name) })) : [];
  $('commune-q').addEventListener('input', drawOptions);
  drawChosen();
}

$('add').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  clearProblem(form);
  // codes typed into the search box and not ticked still count (an admin who knows them)
  const typed = splitCodes($('commune-q').value).filter((c) => /^\d{5}$/.test(c));
  const r = await create(form.elements.name.value.trim(), form.elements.phone.value.trim(), [...new Set([...chosen.keys(), ...typed])]);
  if (!r.ok) { showProblem(form, r.problem); return; }
  form.reset();
  chosen.clear();
  drawChosen();
  drawOptions();
  showLinks([linkCard(r.data.name, r.data.signin)]);
  load();
});

// Many at once: the server's sheet reader (the import's: CSV in any usual encoding, XLSX) gives
// the rows; each is then created like one typed in, and every refused row is named.
$('sheet').addEventListener('change', async (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  const status = $('sheet-status');
  say(status, 'Đang đọc tệp…');
  const xlsx = /\.xlsx$/i.test(file.name);
  const type = xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv';
  const read = await api('POST', '/v1/volunteers/sheet', { form: new Blob([await file.arrayBuffer()], { type }), headers: { 'Content-Type': type } });
  ev.target.value = '';
  if (!read.ok) {
    say(status, read.problem.title + (read.problem.errors || []).map((e) => ' (' + e.field + ')').join(''), 'error');
    return;
  }
  const cards = [], bad = [];
  const rows = read.data.rows;
  for (let i = 0; i < rows.length; i++) {
    const x = rows[i];
    say(status, `Đang thêm ${i + 1}/${rows.length}…`);
    const r = await create(x.name, x.phone, x.communes);
    if (r.ok) cards.push(linkCard(r.data.name, r.data.signin));
    else bad.push(`dòng ${x.row}: ${r.problem.title}${(r.problem.errors || []).map((e) => ' (' + e.field + ')').join('')}`);
  }
  say(status, `Đã thêm ${cards.length} người.` + (bad.length ? ' Không thêm được ' + bad.join('; ') : ''), bad.length ? 'error' : 'ok');
  if (cards.length) showLinks(cards);
  load();
});

function row(v) {
  const li = el('li', { class: 'card volunteer', 'data-id': String(v.id) });
  const act = (label, cls, fn) => {
    const b = el('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', fn);
    return b;
  };
  const buttons = [];
  if (v.state === 'active') {
    buttons.push(act('Liên kết mới', 'secondary small', async () => {
      const r = await api('POST', `/v1/volunteers/${v.id}/link`);
      if (!r.ok) { say($('status'), r.problem.title, 'error'); return; }
      showLinks([linkCard(v.name, r.data)]);
    }));
    buttons.push(act('Đăng xuất mọi thiết bị', 'secondary small', async () => {
      if (!window.confirm(`Đăng xuất ${v.name} khỏi mọi thiết bị?`)) return;
      const r = await api('DELETE', `/v1/volunteers/${v.id}/sessions`);
      say($('status'), r.ok ? `Đã đăng xuất ${v.name} khỏi mọi thiết bị.` : r.problem.title, r.ok ? 'ok' : 'error');
      load();
    }));
    buttons.push(act('Ngừng hoạt động', 'secondary small danger', async () => {
      if (!window.confirm(`Ngừng hoạt động ${v.name}? Mọi thiết bị bị đăng xuất, liên kết chưa dùng mất hiệu lực.`)) return;
      const r = await api('POST', `/v1/volunteers/${v.id}/deactivate`);
      say($('status'), r.ok ? `Đã ngừng hoạt động ${v.name}.` : r.problem.title, r.ok ? 'ok' : 'error');
      load();
    }));
  }
  fill(li,
    el('h3', {}, v.name, ' ', el('span', { class: 'badge ' + (v.state === 'active' ? 'state-good' : '') }, v.state === 'active' ? 'Đang hoạt động' : 'Ngừng hoạt động')),
    el('p', { class: 'small' }, 'Điện thoại: ', v.phone || '—', ' · Xã: ', v.communes.join(', ') || '—'),
    el('p', { class: 'small muted' }, 'Thiết bị đang đăng nhập: ', String(v.sessions),
      ' · Dùng lần cuối: ', v.last_used_at ? new Date(v.last_used_at).toLocaleString('vi-VN') : 'chưa'),
    el('div', { class: 'actions' }, ...buttons));
  return li;
}

// Newest first, a page at a time; "Xem thêm" asks for the next page after the last one shown.
const PAGE = 20;
let cursor = null;
async function load(more = false) {
  const r = await api('GET', `/v1/volunteers?limit=${PAGE}` + (more && cursor ? '&after=' + encodeURIComponent(cursor) : ''));
  if (!r.ok) { say($('status'), r.problem.title, 'error'); return; }
  cursor = r.data.next_cursor || null;
  $('more').hidden = !cursor;
  if (more) r.data.items.forEach((v) => $('list').appendChild(row(v)));
  else fill($('list'), ...r.data.items.map(row));
  if (!more && !r.data.items.length) fill($('list'), el('li', { class: 'muted' }, 'Chưa có tình nguyện viên nào.'));
}
$('more').addEventListener('click', () => load(true));

await requireSession(['admin']);
await Promise.all([loadUnits(), load()]);
document.body.setAttribute('data-ready', '1');
