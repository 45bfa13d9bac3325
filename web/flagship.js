// web/flagship.js: the provincial staff's flagship page (issue 12) — the province's list of
// characteristic products (search accents aside, add, edit) and the volunteers' proposed links
// waiting for a decision (Duyệt / Từ chối with a reason). Text only, no markup from data.
// API: /v1/flagship-products…, /v1/products?flagship_status=proposed, …/flagship-decision
import { api, el, fill, say, showProblem, clearProblem, requireSession } from './app.js';

const $ = (id) => document.getElementById(id);
const form = $('entry');
let categories = []; // GET /v1/categories: the list entry's category is one of these
let next = null; // the list's next page cursor
let entries = new Map(); // id → entry shown, for the edit form

const catName = (code) => (categories.find((c) => c.code === code) || {}).name_vi || code;
const stars = (n) => (n ? '★'.repeat(n) + ' OCOP ' + n + ' sao' : 'Chưa có sao OCOP');

// ---- the list ----
function entryRow(e) {
  const edit = el('button', { type: 'button', class: 'secondary small' }, 'Sửa');
  edit.addEventListener('click', () => startEdit(e));
  const facts = [catName(e.category), stars(e.ocop_stars)];
  if (e.certificate_no) facts.push('GCN ' + e.certificate_no);
  if (e.ocop_year) facts.push('năm ' + e.ocop_year);
  return el('li', { class: 'card flagship-entry', 'data-id': String(e.id) },
    el('h3', {}, e.name),
    el('p', { class: 'small' }, 'Cơ sở: ', e.producer || '—', e.origin_place ? ' · ' + e.origin_place : ''),
    el('p', { class: 'small muted' }, facts.join(' · ')),
    el('div', { class: 'actions' }, edit));
}

async function loadList(more = false) {
  const q = $('q').value.trim();
  let path = '/v1/flagship-products?limit=50' + (q ? '&q=' + encodeURIComponent(q) : '');
  if (more && next) path += '&after=' + encodeURIComponent(next);
  const r = await api('GET', path);
  if (!r.ok) { say($('status'), r.problem.title, 'error'); return; }
  if (!more) { entries = new Map(); fill($('list')); }
  for (const e of r.data.items) { entries.set(e.id, e); $('list').appendChild(entryRow(e)); }
  next = r.data.next_cursor || null;
  $('more').hidden = !next;
  if (!entries.size) fill($('list'), el('li', { class: 'muted' }, q ? 'Không có mục nào khớp “' + q + '”.' : 'Danh sách chưa có mục nào.'));
  say($('status'), q ? `${entries.size}${next ? '+' : ''} mục khớp “${q}”.` : `${entries.size}${next ? '+' : ''} mục.`);
}

let typing = 0;
$('q').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => loadList(), 250); });
$('search').addEventListener('submit', (ev) => { ev.preventDefault(); loadList(); });
$('more').addEventListener('click', () => loadList(true));

// ---- add / edit ----
function startEdit(e) {
  clearProblem(form);
  const f = form.elements;
  f.id.value = String(e.id);
  f.name.value = e.name;
  f.producer.value = e.producer || '';
  f.category.value = e.category;
  f.origin_place.value = e.origin_place || '';
  f.ocop_stars.value = e.ocop_stars ? String(e.ocop_stars) : '';
  f.certificate_no.value = e.certificate_no || '';
  f.ocop_year.value = e.ocop_year ? String(e.ocop_year) : '';
  $('entry-title').textContent = 'Sửa: ' + e.name;
  $('entry-save').textContent = 'Lưu thay đổi';
  $('entry-cancel').hidden = false;
  form.scrollIntoView({ block: 'start' });
  f.name.focus();
}

function stopEdit() {
  form.reset();
  form.elements.id.value = '';
  clearProblem(form);
  $('entry-title').textContent = 'Thêm sản phẩm vào danh sách';
  $('entry-save').textContent = 'Thêm vào danh sách';
  $('entry-cancel').hidden = true;
}
$('entry-cancel').addEventListener('click', stopEdit);

// Blank optional fields: left out when adding, cleared (null) when editing. A year that is not
// a number goes as typed, so the API names the field in its answer.
function body(editing) {
  const f = form.elements;
  const json = { name: f.name.value.trim(), category: f.category.value };
  const opt = (k, v) => { if (v !== '' && v !== null) json[k] = v; else if (editing) json[k] = null; };
  opt('producer', f.producer.value.trim());
  opt('origin_place', f.origin_place.value.trim());
  opt('ocop_stars', f.ocop_stars.value ? Number(f.ocop_stars.value) : '');
  opt('certificate_no', f.certificate_no.value.trim());
  const y = f.ocop_year.value.trim();
  opt('ocop_year', /^\d{1,6}$/.test(y) ? Number(y) : y);
  return json;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearProblem(form);
  const id = form.elements.id.value;
  const r = id ? await api('PATCH', `/v1/flagship-products/${id}`, { json: body(true) })
    : await api('POST', '/v1/flagship-products', { json: body(false) });
  if (!r.ok) { showProblem(form, r.problem); return; }
  say($('status'), (id ? 'Đã lưu “' : 'Đã thêm “') + r.data.name + '”.', 'ok');
  stopEdit();
  $('q').value = r.data.name;
  await loadList();
});

// ---- proposals waiting ----
function proposalRow(p) {
  const li = el('li', { class: 'card proposal', 'data-product': String(p.id) });
  const msg = el('p', { class: 'small', 'aria-live': 'polite' });
  const decide = async (json) => {
    const r = await api('POST', `/v1/products/${p.id}/flagship-decision`, { json });
    if (!r.ok) {
      say(msg, r.problem.title + (r.problem.errors || []).map((e) => ' — ' + (e.message || e.code)).join(''), 'error');
      return;
    }
    say($('proposals-status'), (json.decision === 'approve' ? 'Đã duyệt “' : 'Đã từ chối “') + p.name + '”.', 'ok');
    await loadProposals();
  };
  const ok = el('button', { type: 'button', class: 'small' }, 'Duyệt');
  ok.addEventListener('click', () => decide({ decision: 'approve' }));
  const rid = 'reason-' + p.id;
  const reason = el('textarea', { id: rid, name: 'reason', rows: '2', maxlength: '500' });
  const no = el('button', { type: 'submit', class: 'secondary small danger' }, 'Từ chối');
  const refuse = el('form', { class: 'refuse', method: 'post', novalidate: '' },
    el('div', { class: 'field' }, el('label', { for: rid }, 'Lý do từ chối (bắt buộc, tình nguyện viên sẽ đọc)'), reason),
    el('div', { class: 'actions' }, no));
  refuse.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const why = reason.value.trim();
    if (why.length < 5) { say(msg, 'Hãy ghi lý do từ chối (ít nhất 5 ký tự).', 'error'); reason.focus(); return; }
    decide({ decision: 'refuse', reason: why });
  });
  fill(li,
    el('h3', {}, p.name),
    el('p', { class: 'small' }, 'Hộ: ', el('span', { class: 'code' }, p.household_code), ' · Xã/phường: ', p.commune_code),
    el('p', { class: 'small' }, 'Đề xuất gắn với: ', el('strong', {}, p.flagship_entry || '—')),
    el('div', { class: 'actions' }, ok),
    el('details', {}, el('summary', {}, 'Từ chối…'), refuse),
    msg);
  return li;
}

async function loadProposals() {
  const r = await api('GET', '/v1/products?flagship_status=proposed&limit=200');
  if (!r.ok) { say($('proposals-status'), r.problem.title, 'error'); return; }
  fill($('proposals'), ...r.data.items.map(proposalRow));
  if (!r.data.items.length) fill($('proposals'), el('li', { class: 'muted' }, 'Không có đề xuất nào chờ duyệt.'));
}
$('proposals-refresh').addEventListener('click', () => { say($('proposals-status'), ''); loadProposals(); });

await requireSession(['admin']);
const cats = await api('GET', '/v1/categories');
categories = cats.ok ? cats.data.items : [];
fill($('f-category'), el('option', { value: '' }, 'Chọn ngành hàng'), ...categories.map((c) => el('option', { value: c.code }, c.name_vi)));
await Promise.all([loadProposals(), loadList()]);
document.body.setAttribute('data-ready', '1');
