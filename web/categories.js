// web/categories.js: the marketplace categories page (admin) — each of our categories mapped
// onto a leaf of the marketplace's stored tree, its mandatory attributes filled from the
// marketplace's own choices. Reads GET /v1/marketplace-categories and …/{marketplace}/leaves,
// saves with PUT …/{marketplace}/{category}, asks POST …/refresh for a new fetch.
import { api, el, fill, say, showProblem, clearProblem, requireSession } from './app.js';

const $ = (id) => document.getElementById(id);

function attrControl(a, idx) {
  const id = 'attr-' + idx + '-' + a.id;
  const label = el('label', { for: id }, a.name, a.mandatory ? ' (bắt buộc)' : '');
  let control;
  if (a.choices && a.choices.length) {
    control = el('select', { id, name: 'values', 'data-attr': a.id },
      el('option', { value: '' }, '— chọn —'),
      ...a.choices.map((c) => {
        const o = el('option', { value: c.id || c.name, 'data-name': c.name }, c.name);
        if (a.value && (a.value.id === c.id || a.value.name === c.name)) o.selected = true;
        return o;
      }));
  } else {
    control = el('input', { id, name: 'values', 'data-attr': a.id, type: 'text', maxlength: '200', value: a.value ? a.value.name : '' });
  }
  return el('div', { class: 'field' }, label, control);
}

function mappingCard(m, idx, mp) {
  const form = el('form', { class: 'card', 'data-category': m.category });
  const leafId = 'leaf-' + idx;
  const listId = 'leaves-' + idx;
  const leaf = el('input', { id: leafId, name: 'leaf', value: m.leaf, list: listId, required: '' });
  const list = el('datalist', { id: listId });
  leaf.addEventListener('input', async () => {
    if (leaf.value.length < 2) return;
    const r = await api('GET', '/v1/marketplace-categories/' + mp + '/leaves?q=' + encodeURIComponent(leaf.value));
    if (r.ok) fill(list, ...r.data.leaves.map((l) => el('option', { value: l.id }, l.path)));
  });
  const missing = m.missing && m.missing.length
    ? el('p', { class: 'note note-error' }, '⚠ Thiếu thuộc tính bắt buộc: ', m.missing.join(', '))
    : el('p', { class: 'note' }, m.catalog ? '✓ Đủ thuộc tính bắt buộc' : 'Chưa tải cây danh mục của sàn này');
  const attrs = (m.attributes || []).map((a, k) => attrControl(a, idx * 100 + k));
  fill(form,
    el('h2', {}, m.category),
    el('p', { class: 'muted small' }, m.path || ''),
    el('div', { class: 'field' }, el('label', { for: leafId }, 'Mã danh mục cuối trên sàn'), leaf, list),
    ...attrs,
    missing,
    el('div', { 'data-role': 'form-error' }),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Lưu')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const values = [];
    form.querySelectorAll('[data-attr]').forEach((c) => {
      if (!c.value) return;
      const name = c.tagName === 'SELECT' ? c.selectedOptions[0].dataset.name : c.value;
      values.push({ attribute_id: c.dataset.attr, value_name: name });
    });
    const r = await api('PUT', '/v1/marketplace-categories/' + mp + '/' + encodeURIComponent(m.category), { json: { leaf: leaf.value, values } });
    if (!r.ok) { showProblem(form, r.problem); return; }
    say($('status'), 'Đã lưu ' + m.category + '.', 'ok');
    load();
  });
  return form;
}

async function load() {
  const mp = $('mp').value;
  const r = await api('GET', '/v1/marketplace-categories?marketplace=' + mp);
  if (!r.ok) { say($('status'), r.problem.title, 'error'); return; }
  fill($('mappings'), ...r.data.items.map((m, i) => mappingCard(m, i, mp)));
}

await requireSession(['admin']);
$('mp').addEventListener('change', load);
$('refresh').addEventListener('click', async () => {
  const r = await api('POST', '/v1/marketplace-categories/refresh', { json: { marketplace: $('mp').value } });
  say($('status'), r.ok ? 'Đã yêu cầu tải lại (việc số ' + r.data.job_id + '); tải lại trang sau ít phút.' : r.problem.title, r.ok ? 'ok' : 'error');
});
await load();
document.body.setAttribute('data-ready', '1');
