// web/volunteer-more.js: the volunteer's workspace beyond the registration form — the receipt,
// finding and fixing households, PINs for many, products with photos, onboarding and publishing,
// sales, spreadsheet imports, the offline outbox. Loaded by volunteer.js after the form works
// (dynamic import: a slow phone parses and runs only the form's part first — issue 13,
// make bench-phone); it never draws the form itself. Every answer and error comes from the API.
import { api, el, fill, say, showProblem, clearProblem, fmtNum, fmtVnd, fmtDateTime, safeUrl, currentSession, refreshSession } from './app.js';
import { outboxAdd, outboxFlush, outboxPurge } from './outbox.js';
import { session, communeNames, idemKeyFor, watchIdem, youthBadge } from './volunteer.js';

const $ = (id) => document.getElementById(id);


// Words for the states (the same as the owner's page says them), each with an icon so the
// state reads without colour.
const ACCOUNT_STATES = {
  not_started: ['Chưa bắt đầu', 'state-wait', '…'],
  awaiting_owner: ['Chờ chủ hộ cho phép', 'state-act', '➜'],
  authorized: ['Đã cho phép, đang kích hoạt', 'state-wait', '…'],
  active: ['Gian hàng đang hoạt động', 'state-good', '✓'],
  rejected: ['Sàn từ chối', 'state-bad', '✗'],
  suspended: ['Bị tạm khoá', 'state-bad', '✗'],
  token_expired: ['Cần chủ hộ cho phép lại', 'state-act', '➜'],
};
// how often a product card with a listing under review asks for its state again
const REVIEW_POLL_MS = 5000;
const LISTING_STATES = {
  draft: ['Chưa gửi', 'state-wait', '…'],
  queued: ['Đang chờ gửi', 'state-wait', '…'],
  submitted: ['Đã gửi, sàn đang nhận', 'state-wait', '…'],
  pending_review: ['Sàn đang duyệt', 'state-wait', '…'],
  live: ['Đang bán', 'state-good', '✓'],
  rejected: ['Bị sàn từ chối', 'state-bad', '✗'],
  delisted: ['Đã gỡ khỏi sàn', 'state-bad', '✗'],
  failed: ['Gửi không thành công', 'state-bad', '✗'],
  withdrawing: ['Đang gỡ khỏi sàn', 'state-act', '➜'],
  withdrawn: ['Đã rút khỏi sàn', 'state-wait', '•'],
};
// The link of a product to the province's flagship list: only an approved one counts.
const FLAGSHIP_STATES = {
  proposed: ['Chủ lực: chờ Tỉnh đoàn duyệt', 'state-wait', '…'],
  approved: ['★ chủ lực (đã duyệt)', 'state-good', '✓'],
  refused: ['Chủ lực: bị từ chối', 'state-bad', '✗'],
};
// A search box over the province's flagship list (GET /v1/flagship-products?q=): the names
// found fill a datalist, so the phone's keyboard offers them as the volunteer types.
function flagshipSearch(input, datalist) {
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return;
    timer = setTimeout(async () => {
      const r = await api('GET', `/v1/flagship-products?limit=20&q=${encodeURIComponent(q)}`);
      if (r.ok) fill(datalist, r.data.items.map((x) => el('option', { value: x.name }, x.ocop_stars ? `${x.ocop_stars}★ ${x.origin_place || ''}` : (x.origin_place || ''))));
    }, 250);
  });
}
function flagshipState(p) {
  if (!FLAGSHIP_STATES[p.flagship_status]) return null;
  return el('p', { class: 'small', 'data-role': 'flagship-state' }, badge(FLAGSHIP_STATES, p.flagship_status),
    p.flagship_entry ? ` ${p.flagship_entry}` : '',
    p.flagship_status === 'refused' && p.flagship_reason ? el('span', { class: 'note-error' }, ` — Lý do: ${p.flagship_reason}`) : null);
}
function badge(map, state) {
  const [text, cls, icon] = map[state] || [state, 'state-wait', '•'];
  return el('span', { class: 'badge ' + cls, 'data-state': state }, icon + ' ' + text);
}

let marketplaces = [];
let current = null; // the household opened below the list
let categories = []; // GET /v1/categories, for the product edit form


// An integer field: the number when it is one, else the text as typed (so the API names it).
function intOrText(v) {
  const t = String(v).trim().replace(/[.\s]/g, '');
  return /^-?\d+$/.test(t) ? Number(t) : String(v).trim();
}

// --- registration and the receipt ---------------------------------------------------------------

// Mark `card` as the one receipt to print (app.css, @media print: nothing else goes on paper).
export function printOnly(card) {
  document.querySelectorAll('.receipt.printing').forEach((e) => e.classList.remove('printing'));
  card.classList.add('printing');
  document.body.classList.add('print-receipt');
}

export function receipt(h, id = 'receipt') {
  const print = el('button', { type: 'button', class: 'secondary' }, 'In phiếu');
  print.addEventListener('click', () => {
    printOnly(card);
    window.addEventListener('afterprint', () => document.body.classList.remove('print-receipt'), { once: true });
    window.print();
  });
  const go = el('button', { type: 'button' }, 'Thêm sản phẩm cho hộ này');
  go.addEventListener('click', () => openHousehold(h.code));
  const card = el('div', { class: 'receipt', id },
    el('h3', {}, 'Phiếu đăng ký Chợ Số'),
    el('p', {}, h.business_name || '', h.business_name ? ' · ' : '', h.commune?.name || ''),
    el('p', {}, 'Mã hộ: ', el('span', { class: 'code', 'data-role': 'code' }, h.code)),
    el('p', {}, 'Mã PIN: ', el('span', { class: 'pin', 'data-role': 'pin' }, h.pin)),
    h.owner_age !== undefined ? el('p', {}, youthBadge(h.owner_age, h.youth_led)) : null,
    el('img', { src: `/v1/households/${encodeURIComponent(h.code)}/receipt.svg`, alt: `Mã QR mở trang tình trạng của hộ ${h.code}` }),
    el('p', { class: 'small' }, 'Chủ hộ quét mã QR (hoặc mở trang “Xem tình trạng gian hàng”) rồi nhập mã PIN để xem gian hàng và sản phẩm. ',
      el('strong', {}, 'Mã PIN chỉ hiện một lần: hãy đưa phiếu cho chủ hộ chụp ảnh hoặc in ra. Không lưu ảnh phiếu trên máy của tình nguyện viên.')),
    el('p', { class: 'small', 'data-role': 'forgot' }, 'Khi quên PIN: gặp tình nguyện viên ', el('strong', {}, session?.name || ''),
      ' hoặc Đoàn Thanh niên ', h.commune?.name || 'xã/phường', ', mang theo CCCD, để được cấp PIN mới.'),
    el('div', { class: 'actions noprint' }, print, id === 'receipt' ? go : null));
  return card;
}

// A new PIN for the opened household (a lost receipt, or a household that came from a
// spreadsheet, which gets none): the old PIN stops working, so it asks first.
function setupNewPin() {
  $('new-pin').addEventListener('click', () => {
    const yes = el('button', { type: 'button' }, 'Cấp mã PIN mới');
    const no = el('button', { type: 'button', class: 'secondary' }, 'Thôi');
    fill($('pin-area'), el('div', { class: 'card', role: 'alertdialog', 'aria-label': 'Xác nhận cấp mã PIN mới' },
      el('p', {}, 'Mã PIN cũ của hộ sẽ hết hiệu lực ngay. Chỉ cấp khi đang ở cùng chủ hộ để trao phiếu mới.'),
      el('div', { class: 'actions' }, yes, no)));
    yes.focus();
    no.addEventListener('click', () => $('pin-area').replaceChildren());
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      const r = await api('POST', `/v1/households/${encodeURIComponent(current.code)}/pin`);
      if (!r.ok) return say($('pin-area'), r.problem.title + (r.problem.detail && r.problem.detail !== r.problem.title ? ` (${r.problem.detail})` : ''), 'error');
      fill($('pin-area'), receipt({ code: r.data.code, pin: r.data.pin, business_name: current.business_name, commune: current.commune }, 'pin-receipt'));
    });
  });
}


// --- households -------------------------------------------------------------------------------------

// --- finding households (issue 13): newest first, "Xem thêm", one search box, filters ------------

const HH_STATUS = { registered: 'Mới đăng ký', onboarding: 'Đang mở gian hàng', onboarded: 'Đã có gian hàng', erased: 'Đã xoá dữ liệu' };
const HH_FILTERS = { 'f-nopin': 'pin_set=false', 'f-notyouth': 'youth_led=false', 'f-awaiting': 'awaiting_owner=true', 'f-rejected': 'has_rejected=true' };
let hhQuery = '';
let hhCursor = null;

function householdRow(h) {
  const open = el('button', { type: 'button', class: 'secondary' }, 'Mở');
  open.addEventListener('click', () => openHousehold(h.code));
  const year = /(\d{4})$/.exec(h.birth_date || '')?.[1];
  return el('li', { 'data-code': h.code },
    el('div', { class: 'row' },
      el('span', {}, el('strong', { class: 'code' }, h.code), ' · ', h.owner_name || '', h.business_name ? ' · ' + h.business_name : ''),
      open),
    el('p', { class: 'small muted', 'data-role': 'who' },
      year ? `Sinh năm ${year}` : null, year && h.phone ? ' · ' : null, h.phone ? `ĐT ${h.phone}` : null),
    el('p', { class: 'small' }, youthBadge(h.owner_age, h.youth_led), ' ',
      el('span', { class: 'muted' }, h.commune?.name || communeNames[h.commune_code] || h.commune_code, ' · ', HH_STATUS[h.status] || h.status,
        h.pin_set === false ? ' · chưa có PIN' : '')),
    h.pin_set === false && h.status !== 'erased' ? pinPick(h.code) : null);
}

// q: a new search (undefined keeps the current one); more: the next page after the cursor.
export async function loadHouseholds(q, more = false) {
  const list = $('households');
  if (q !== undefined) hhQuery = q;
  const params = ['limit=20', 'order=newest'];
  if (hhQuery) params.push('q=' + encodeURIComponent(hhQuery));
  for (const [id, p] of Object.entries(HH_FILTERS)) if ($(id)?.checked) params.push(p);
  if (more && hhCursor) params.push('after=' + encodeURIComponent(hhCursor));
  const btn = $('hh-more');
  btn.disabled = true;
  const r = await api('GET', '/v1/households?' + params.join('&'));
  btn.disabled = false;
  if (!r.ok) {
    btn.hidden = true;
    const msg = (r.problem.errors || []).map((e) => e.message).join('; ');
    return fill(list, el('li', {}, el('span', { class: 'note note-error' }, '⚠ ', r.problem.title, msg ? ' — ' + msg : '')));
  }
  hhCursor = r.data.next_cursor || null;
  btn.hidden = !hhCursor;
  const rows = r.data.items.map(householdRow);
  if (more) rows.forEach((x) => list.appendChild(x));
  else if (!rows.length) fill(list, el('li', { class: 'muted' }, hhQuery || params.length > 2 ? 'Không tìm thấy hộ nào.' : 'Chưa có hộ nào trong các xã/phường của bạn.'));
  else fill(list, rows);  pinBatchBar();
}

function setupHouseholdSearch() {
  $('hh-search').addEventListener('submit', (ev) => { ev.preventDefault(); loadHouseholds($('hh-q').value.trim()); });
  for (const id of Object.keys(HH_FILTERS)) $(id).addEventListener('change', () => loadHouseholds());
  $('hh-more').addEventListener('click', () => loadHouseholds(undefined, true));
}

// --- PINs for many households at once (issue 13 point 8) -----------------------------------------
// Imported households get no PIN. The volunteer ticks the rows "chưa có PIN" (or all shown),
// issues their PINs in one request (POST /v1/households/pins, one Idempotency-Key per batch:
// a retry issues nothing twice and never shows a PIN again) and prints one receipt per A6 page.

function pinPick(code) {
  const box = el('input', { type: 'checkbox', 'data-role': 'pin-pick', value: code, 'aria-label': `Chọn hộ ${code} để cấp PIN` });
  box.addEventListener('change', pinBatchBar);
  return el('label', { class: 'inline small noprint' }, box, ' Chọn để cấp PIN');
}

const pickedCodes = () => [...document.querySelectorAll('#households input[data-role=pin-pick]:checked')].map((b) => b.value);

function pinBatchBar() {
  const boxes = document.querySelectorAll('#households input[data-role=pin-pick]');
  const n = pickedCodes().length;
  $('pin-batch').hidden = boxes.length === 0;
  $('pin-batch-note').textContent = `${fmtNum(boxes.length)} hộ đang hiện chưa có PIN (hộ nhập từ bảng tính). Đã chọn ${fmtNum(n)}.`;
  const go = $('pin-batch-issue');
  go.disabled = n === 0;
  go.textContent = n ? `Cấp PIN cho ${fmtNum(n)} hộ đã chọn` : 'Cấp PIN cho hộ đã chọn';
}

// One receipt of the batch: the code on one line, owner, commune, PIN, the owner page's address
// and what to do — everything the owner needs, on one A6 page.
function batchReceipt(h) {
  return el('article', { class: 'receipt', 'data-code': h.code },
    el('h3', {}, 'Phiếu mã PIN Chợ Số'),
    el('p', {}, 'Mã hộ: ', el('span', { class: 'code', 'data-role': 'code' }, h.code)),
    el('p', {}, 'Chủ hộ: ', el('strong', { 'data-role': 'owner' }, h.owner_name || '')),
    h.business_name ? el('p', {}, 'Hộ kinh doanh: ', h.business_name) : null,
    el('p', {}, 'Xã/phường: ', el('span', { 'data-role': 'commune' }, h.commune?.name || '')),
    el('p', {}, 'Mã PIN: ', el('span', { class: 'pin', 'data-role': 'pin' }, h.pin)),
    el('img', { src: `/v1/households/${encodeURIComponent(h.code)}/receipt.svg`, alt: `Mã QR mở trang tình trạng của hộ ${h.code}`, class: 'qr' }),
    el('p', { class: 'small' }, 'Trang của chủ hộ: ', el('span', { class: 'url', 'data-role': 'url' }, h.owner_url || '')),
    el('p', { class: 'small', 'data-role': 'todo' }, 'Quét mã QR hoặc mở địa chỉ trên, nhập mã hộ và mã PIN để xem gian hàng, sản phẩm và đơn bán. Giữ kín mã PIN, không đưa cho người khác. ',
      'Khi quên PIN: gặp tình nguyện viên hoặc Đoàn Thanh niên ', h.commune?.name || 'xã/phường', ', mang theo CCCD.'));
}

const SKIP_REASONS = { pin_set: 'đã có PIN (không cấp lại)', not_found: 'không tìm thấy', forbidden_commune: 'không thuộc xã/phường của bạn', gone: 'đã xoá dữ liệu', error: 'lỗi máy chủ, thử lại sau' };

function batchSheet(d) {
  const print = el('button', { type: 'button', 'data-role': 'print-batch' }, `In ${fmtNum(d.issued.length)} phiếu (mỗi phiếu một trang A6)`);
  print.addEventListener('click', () => {
    document.body.classList.add('print-batch');
    window.addEventListener('afterprint', () => document.body.classList.remove('print-batch'), { once: true });
    window.print();
  });
  const close = el('button', { type: 'button', class: 'secondary' }, 'Đã in xong, đóng');
  close.addEventListener('click', () => $('pin-batch-result').replaceChildren());
  const withPin = d.issued.filter((h) => h.pin);
  return el('div', { class: 'receipts-sheet', id: 'pin-sheet' },
    el('div', { class: 'noprint' },
      el('p', { 'data-role': 'batch-summary' }, withPin.length ? '✓ ' : '⚠ ', `Đã cấp PIN cho ${fmtNum(d.issued.length)} hộ.`,
        d.skipped.length ? ` Bỏ qua ${fmtNum(d.skipped.length)} hộ: ` + d.skipped.map((x) => `${x.code} (${SKIP_REASONS[x.reason] || x.reason})`).join(', ') + '.' : ''),
      withPin.length < d.issued.length
        ? el('p', { class: 'note note-error' }, '⚠ Các mã PIN đã cấp nhưng không hiện lại được (mỗi mã chỉ hiện một lần). Với hộ cần phiếu, mở hộ và dùng “Cấp mã PIN mới cho chủ hộ”.')
        : el('p', { class: 'small' }, el('strong', {}, 'Mã PIN chỉ hiện một lần: hãy in ngay. '), 'Trao mỗi phiếu tận tay chủ hộ; không chụp hay lưu phiếu trên máy.'),
      el('div', { class: 'actions' }, withPin.length ? print : null, close)),
    withPin.map(batchReceipt));
}

function setupPinBatch() {
  $('pin-pick-all').addEventListener('click', () => {
    document.querySelectorAll('#households input[data-role=pin-pick]').forEach((b) => { b.checked = true; });
    pinBatchBar();
  });
  let pending = null; // { codes, key }: the same batch retried keeps its key
  $('pin-batch-issue').addEventListener('click', async () => {
    const codes = pickedCodes();
    if (!codes.length) return;
    if (!pending || pending.codes.join() !== codes.join()) pending = { codes, key: crypto.randomUUID() };
    const btn = $('pin-batch-issue');
    btn.disabled = true;
    const out = $('pin-batch-result');
    say(out, `Đang cấp PIN cho ${fmtNum(codes.length)} hộ…`);
    const r = await api('POST', '/v1/households/pins', { json: { codes }, headers: { 'Idempotency-Key': pending.key } });
    btn.disabled = false;
    if (!r.ok) return say(out, r.problem.title + (r.status === 0 ? '' : (r.problem.detail ? ` (${r.problem.detail})` : '')), 'error');
    pending = null;
    fill(out, batchSheet(r.data));
    $('pin-sheet').scrollIntoView({ block: 'start' });
    loadHouseholds();
  });
}

// --- youth and progress at a glance (issue 13) --------------------------------------------------


// "Tiến độ xã của bạn": this year's numbers of the volunteer's communes, each metric under the
// one label the API gives it (the dashboard uses the same).
function renderProgress(t) {
  const box = $('my-progress');
  if (!box || !t) return;
  const rows = (t.metrics || []).map((m) => el('li', { 'data-metric': m.metric },
    el('span', {}, m.label), ' ', el('strong', {}, fmtNum(m.achieved)),
    m.goal !== null && m.goal !== undefined ? el('span', { class: 'muted' }, ' / ', fmtNum(m.goal)) : null));
  fill(box, el('p', { class: 'small muted' }, `Năm ${t.year}, đến ngày ${t.as_of}`, t.scope ? ' · các xã/phường bạn phụ trách' : ''),
    t.simulated ? el('p', { class: 'small note note-info', 'data-role': 'simulated' }, 'Dữ liệu mô phỏng (tập huấn)') : null, el('ul', { class: 'plain metrics' }, rows));
}

function marketplaceChoices(name, checked) {
  return marketplaces.map((m) => el('label', { class: 'inline' }, el('input', { type: 'checkbox', name, value: m.code, checked: checked?.includes(m.code) }), m.name));
}

async function openHousehold(code) {
  const card = $('household-card');
  const r = await api('GET', '/v1/households/' + encodeURIComponent(code));
  if (!r.ok) {
    card.hidden = false;
    fill($('hh-meta'), el('span', { class: 'note note-error' }, '⚠ ', r.problem.title));
    return;
  }
  current = r.data;
  $('hh-title').textContent = `Hộ ${current.code}` + (current.business_name ? ' — ' + current.business_name : '');
  fill($('hh-meta'), current.owner_name || '', ' · ', current.commune?.name || '', ' · đăng ký ', fmtDateTime(current.registered_at));
  fill($('onboard-choices'), marketplaceChoices('marketplace'));
  $('onboard-result').replaceChildren();
  $('pin-area').replaceChildren();
  $('hh-edit-area').replaceChildren();
  $('product-result').replaceChildren();
  card.hidden = false;
  await Promise.all([loadAccounts(), loadProducts()]);
  card.scrollIntoView({ block: 'start' });
}

// postmart.vn and voso.vn publish no API: the volunteer opens the shop with the registration
// pack and confirms its address; products go up with the upload sheet and their addresses are
// confirmed one by one (the service then checks those pages on a schedule).
// Marketplaces with an API come with their connector code; every other one is assisted — a
// marketplace added as data (Sendo, a cooperative's site) included — when no kind is at hand.
const API_MARKETS = new Set(['shopee', 'lazada', 'tiktok']);
const ASSISTED = { has: (code) => !!code && !API_MARKETS.has(code) };
const isAssisted = (code, kind) => (kind ? kind === 'file' : ASSISTED.has(code));

// A one-field form that POSTs {name: value} to path and calls done() on success.
function confirmForm(id, label, name, path, done) {
  const form = el('form', { novalidate: true, class: 'confirm' },
    el('div', { class: 'form-error', 'data-role': 'form-error', tabindex: '-1', hidden: true }),
    el('div', { class: 'field' }, el('label', { for: id }, label), el('input', { id, name, type: 'url', inputmode: 'url', placeholder: 'https://…', autocomplete: 'off' })),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'secondary' }, 'Xác nhận')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const r = await api('POST', path, { json: { [name]: form.elements[name].value.trim() } });
    if (!r.ok) return showProblem(form, r.problem);
    done();
  });
  return form;
}

// The marketplaces where the current household has an active shop: the only ones a product
// can be published on, so the only ones the publish form offers.
let activeShops = [];
async function loadActiveShops() {
  const r = await api('GET', '/v1/seller-accounts?household=' + encodeURIComponent(current.code));
  activeShops = r.ok ? r.data.items.filter((a) => a.state === 'active').map((a) => a.marketplace) : [];
  return r;
}
// a card's publish answer, kept across the card's redraws (as uploadReports)
const publishReports = new Map();

async function loadAccounts() {
  const list = $('accounts');
  const r = await loadActiveShops();
  if (!r.ok) return fill(list, el('li', {}, el('span', { class: 'note note-error' }, '⚠ ', r.problem.title)));
  if (!r.data.items.length) return fill(list, el('li', { class: 'muted' }, 'Chưa mở gian hàng trên sàn nào.'));
  const name = (c) => marketplaces.find((m) => m.code === c)?.name || c;
  const hc = encodeURIComponent(current.code);
  fill(list, r.data.items.map((a) => {
    const assisted = isAssisted(a.marketplace, a.kind);
    const base = `/v1/households/${hc}/accounts/${encodeURIComponent(a.marketplace)}`;
    return el('li', { 'data-marketplace': a.marketplace },
      el('div', { class: 'row' }, el('strong', {}, name(a.marketplace)), badge(ACCOUNT_STATES, a.state)),
      safeUrl(a.auth_link) ? el('p', { class: 'small' }, 'Chủ hộ mở liên kết này (có trên trang tình trạng của hộ) để cho phép Chợ Số đăng sản phẩm: ', el('a', { href: safeUrl(a.auth_link), rel: 'noopener noreferrer' }, 'liên kết cho phép')) : null,
      assisted && a.state !== 'active' ? el('p', { class: 'small' }, 'Hồ sơ đăng ký gian hàng: ',
        el('a', { href: base + '/pack.html', target: '_blank', rel: 'noopener' }, 'xem để in'), ' · ',
        el('a', { href: base + '/pack.xlsx', download: true }, 'tệp Excel')) : null,
      assisted && a.state !== 'active' ? confirmForm(`shop-${a.marketplace}`, `Địa chỉ gian hàng đã mở trên ${name(a.marketplace)}`, 'shop_url', base + '/confirm', loadAccounts) : null,
      safeUrl(a.shop_url) ? el('p', { class: 'small' }, el('a', { href: safeUrl(a.shop_url), rel: 'noopener noreferrer' }, 'Xem gian hàng')) : null,
      a.last_error ? el('p', { class: 'small' }, '⚠ ', a.last_error.message || a.last_error.code) : null);
  }));
}

// The answer of one call, in one line: what the API said.
function answerLine(label, r) {
  if (r.ok) return el('li', {}, el('span', { class: 'note note-ok' }, '✓ ', label, ': đã nhận', r.data?.state ? ` (${r.data.state})` : ''));
  const errs = (r.problem.errors || []).map((e) => e.message).join('; ');
  return el('li', {}, el('span', { class: 'note note-error' }, '⚠ ', label, ': ', r.problem.title, r.problem.detail && r.problem.detail !== r.problem.title ? ` (${r.problem.detail})` : '', errs ? ' — ' + errs : ''));
}

function setupOnboard() {
  const form = $('onboard');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const chosen = [...form.querySelectorAll('input[name=marketplace]:checked')].map((i) => i.value);
    if (!chosen.length) return showProblem(form, { title: 'Chưa chọn sàn', errors: [{ field: 'marketplace', message: 'Hãy chọn ít nhất một sàn' }] });
    const out = el('ul', {});
    fill($('onboard-result'), out);
    for (const m of chosen) {
      const r = await api('POST', `/v1/households/${encodeURIComponent(current.code)}/accounts`, { json: { marketplace: m } });
      out.appendChild(answerLine(marketplaces.find((x) => x.code === m)?.name || m, r));
    }
    loadAccounts();
  });
}

// --- products -----------------------------------------------------------------------------------------

// --- photos on a slow link (issue 13): shrunk in the browser, one progress bar per file, errors
// that stay until the next upload for that product (a redrawn card takes its report along) ------

const PHOTO_MAX_SIDE = 1600;
const PHOTO_LIMIT_TEXT = 'Ảnh được thu nhỏ ngay trên điện thoại (cạnh dài nhất 1600 điểm ảnh, dạng JPEG) rồi mới gửi; mỗi ảnh sau khi thu nhỏ tối đa 5 MB, mỗi sản phẩm tối đa 9 ảnh.';
const uploadReports = new Map(); // product id → its report list

// A phone photo as a JPEG of at most PHOTO_MAX_SIDE on its longer side; a file the browser
// cannot read as an image is sent as it is (the API then says what is wrong with it).
export async function shrinkPhoto(file) {
  let bmp;
  try {
    bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file;
  }
  const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bmp.width, bmp.height));
  if (scale === 1 && file.type === 'image/jpeg' && file.size <= 1_500_000) { bmp.close(); return file; }
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(bmp.width * scale));
  c.height = Math.max(1, Math.round(bmp.height * scale));
  c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
  bmp.close();
  const blob = await new Promise((res) => c.toBlob(res, 'image/jpeg', 0.85));
  return blob || file;
}

// POST a form with upload progress (fetch has none): resolves like api().
function postWithProgress(path, fd, onProgress) {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.setRequestHeader('Accept', 'application/json');
    const csrf = currentSession()?.csrf;
    if (csrf) x.setRequestHeader('X-CSRF-Token', csrf);
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    x.onerror = () => resolve({ ok: false, status: 0, problem: { title: 'Mất kết nối khi đang gửi ảnh. Hãy chọn lại ảnh khi có sóng.', errors: [] } });
    x.onload = () => {
      let data = null;
      try { data = JSON.parse(x.responseText); } catch { data = null; }
      if (x.status >= 200 && x.status < 300) return resolve({ ok: true, status: x.status, data });
      const problem = data && typeof data === 'object' ? data : { title: 'Lỗi ' + x.status, errors: [] };
      if (x.status === 413) problem.title = 'Ảnh quá lớn (tối đa 5 MB sau khi thu nhỏ)';
      resolve({ ok: false, status: x.status, problem });
    };
    x.send(fd);
  });
}

// keep: the report belongs to the product's card (it follows the card when it is redrawn).
async function uploadPhotos(productId, files, report, keep = false) {
  if (keep) uploadReports.set(productId, report);
  report.classList.add('upload-list');
  for (const file of files) {
    const name = file.name || 'ảnh';
    const bar = el('progress', { max: 100, value: 0, 'aria-label': 'Đang gửi ' + name });
    const status = el('span', {}, 'Đang thu nhỏ…');
    const item = el('li', { 'data-photo': name }, el('span', {}, name, ': '), status, bar);
    report.appendChild(item);
    const small = await shrinkPhoto(file);
    const fd = new FormData();
    fd.append('image', small, name.replace(/\.[^.]*$/, '') + (small.type === 'image/jpeg' ? '.jpg' : ''));
    status.textContent = `Đang gửi (${Math.round(small.size / 1024)} KB)…`;
    const r = await postWithProgress(`/v1/products/${productId}/images`, fd, (done, total) => { bar.value = Math.round((done * 100) / total); });
    bar.remove();
    if (r.ok) fill(status, el('span', { class: 'note note-ok' }, `✓ Đã tải ảnh (${Math.round(small.size / 1024)} KB)`));
    else {
      const errs = (r.problem.errors || []).map((e) => e.message).join('; ');
      fill(status, el('span', { class: 'note note-error', role: 'alert' }, '⚠ ', r.problem.title, r.problem.detail && r.problem.detail !== r.problem.title ? ` (${r.problem.detail})` : '', errs ? ' — ' + errs : ''));
    }
  }
}

// The product's photos with "delete" and "move earlier" (PUT …/images/order, DELETE …/images/{sha}).
function photoManager(p, li) {
  const imgs = p.images || [];
  if (!imgs.length) return el('div', { class: 'thumbs' });
  const out = el('span', { 'aria-live': 'polite' });
  const move = async (i) => {
    const order = imgs.map((im) => im.sha256);
    [order[i - 1], order[i]] = [order[i], order[i - 1]];
    const r = await api('PUT', `/v1/products/${p.id}/images/order`, { json: { order } });
    if (!r.ok) return say(out, r.problem.title, 'error');
    refreshProduct(p.id, li);
  };
  const del = async (im, i) => {
    if (!window.confirm(`Xoá ảnh ${i + 1} của “${p.name}”?`)) return;
    const r = await api('DELETE', `/v1/products/${p.id}/images/${im.sha256}`);
    if (!r.ok) return say(out, r.problem.title, 'error');
    refreshProduct(p.id, li);
  };
  return el('div', {},
    el('ul', { class: 'thumbs plain photo-manager' }, imgs.map((im, i) => {
      const up = el('button', { type: 'button', class: 'secondary small', 'aria-label': `Đưa ảnh ${i + 1} lên trước` }, '◀');
      const rm = el('button', { type: 'button', class: 'secondary small', 'aria-label': `Xoá ảnh ${i + 1}` }, '✕');
      up.disabled = i === 0;
      up.addEventListener('click', () => move(i));
      rm.addEventListener('click', () => del(im, i));
      return el('li', { 'data-sha': im.sha256 }, el('img', { src: im.url, alt: `Ảnh ${i + 1} của ${p.name}`, loading: 'lazy' }), el('div', { class: 'actions' }, up, rm));
    })),
    out);
}

// A marketplace's refusal, each reason once: the summary only when the field list does not
// already say it (a single-field refusal's summary is that field's message).
function reasonOnce(e) {
  const fields = e.fields || [];
  const said = fields.map((f) => f.message || f.code || '');
  const head = e.message || e.code;
  return el('div', { class: 'small', 'data-role': 'reason' }, 'Lý do: ', said.includes(head) && fields.length ? null : head,
    fields.length ? el('ul', {}, fields.map((f, i) => el('li', {}, f.message && f.field && f.message.includes(f.field) ? said[i] : (f.field ? f.field + ': ' : '') + said[i]))) : null);
}

function productCard(p) {
  const li = el('li', { 'data-product': p.id });
  const listings = el('ul', { class: 'listings' }, (p.listings || []).map((l) => {
    const again = el('button', { type: 'button', class: 'secondary' }, 'Gửi lại sau khi sửa');
    again.addEventListener('click', async () => {
      const r = await api('POST', `/v1/listings/${l.id}/republish`);
      if (!r.ok) return fill(againOut, el('span', { class: 'note note-error' }, '⚠ ', r.problem.title, r.problem.detail && r.problem.detail !== r.problem.title ? ` (${r.problem.detail})` : ''));
      refreshProduct(p.id, li);
    });
    const againOut = el('span', { 'aria-live': 'polite' });
    const assisted = isAssisted(l.marketplace);
    // removal from our side: on an assisted marketplace the volunteer takes the page down by hand
    const gone = el('button', { type: 'button' }, 'Tôi đã gỡ sản phẩm khỏi sàn');
    gone.addEventListener('click', async () => {
      const r = await api('POST', `/v1/listings/${l.id}/withdrawn`);
      if (!r.ok) return fill(againOut, el('span', { class: 'note note-error' }, '⚠ ', r.problem.title));
      refreshProduct(p.id, li);
    });
    // an API marketplace's take-down handed to a person (refused again and again, or the erased
    // household's authorisation expired): the same task, its reason shown above
    const byHand = l.error && l.error.code === 'take_down_by_hand';
    const takeDown = (assisted || byHand) && l.state === 'withdrawing' ? el('div', { class: 'task', 'data-role': 'take-down' },
      el('p', {}, 'Việc cần làm: gỡ sản phẩm này khỏi sàn',
        safeUrl(l.listing_url) ? [' tại ', el('a', { href: safeUrl(l.listing_url), rel: 'noopener noreferrer' }, l.listing_url)] : ' (tìm theo mã CS-' + l.id + ')', '.'),
      el('div', { class: 'actions' }, gone, againOut)) : null;
    const away = ['withdrawing', 'withdrawn'].includes(l.state);
    const sheet = `/v1/products/${p.id}/listings/${encodeURIComponent(l.marketplace)}/sheet`;
    return el('li', { 'data-marketplace': l.marketplace, 'data-listing': l.id },
      el('span', {}, marketplaces.find((m) => m.code === l.marketplace)?.name || l.marketplace, ': '), badge(LISTING_STATES, l.state),
      safeUrl(l.listing_url) ? el('span', {}, ' ', el('a', { href: safeUrl(l.listing_url), rel: 'noopener noreferrer' }, 'xem trên sàn')) : null,
      l.first_sale_at ? el('span', { class: 'badge state-good', 'data-role': 'sold' }, ' ✓ Đã bán (lần đầu ' + l.first_sale_at.slice(0, 10).split('-').reverse().join('/') + ')') : null,
      l.error ? reasonOnce(l.error) : null,
      ['rejected', 'failed'].includes(l.state) ? el('div', { class: 'actions' }, again, againOut) : null,
      takeDown,
      assisted && l.state !== 'live' && !away ? el('p', { class: 'small' }, 'Bảng đăng sản phẩm: ', el('a', { href: sheet + '.xlsx', download: true }, 'Excel'), ' · ', el('a', { href: sheet + '.csv', download: true }, 'CSV')) : null,
      assisted && !away && ['queued', 'submitted', 'pending_review'].includes(l.state) && l.id ? confirmForm(`listing-url-${l.id}`, 'Địa chỉ sản phẩm đã đăng trên sàn', 'listing_url', `/v1/listings/${l.id}/confirm`, () => refreshProduct(p.id, li)) : null,
      ASSISTED.has(l.marketplace) && l.state === 'live' && l.id ? saleForm(l, () => refreshProduct(p.id, li)) : null);
  }));

  // add photos straight from the camera
  const photoId = `photo-${p.id}`;
  const photo = el('input', { type: 'file', id: photoId, accept: 'image/*', capture: 'environment', multiple: true });
  const report = uploadReports.get(p.id) || el('ul', { class: 'small' });
  photo.addEventListener('change', async () => {
    report.replaceChildren();
    await uploadPhotos(p.id, [...photo.files], report, true);
    photo.value = '';
    refreshProduct(p.id, li);
  });

  // publish on the chosen marketplaces: only active shops with no listing under way (a refused
  // listing is sent again with its own button "Gửi lại sau khi sửa")
  const taken = new Set((p.listings || []).filter((l) => l.state !== 'draft').map((l) => l.marketplace));
  const offer = marketplaces.filter((m) => activeShops.includes(m.code) && !taken.has(m.code));
  const pubForm = el('form', { novalidate: true, 'data-role': 'publish' },
    el('div', { class: 'form-error', 'data-role': 'form-error', tabindex: '-1', hidden: true }),
    el('fieldset', { class: 'field' }, el('legend', {}, 'Đăng lên sàn'),
      offer.length
        ? el('div', { class: 'choices', 'data-field': 'marketplaces' }, offer.map((m) => el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'marketplaces', value: m.code }), m.name)))
        : el('p', { class: 'small muted' }, activeShops.length ? 'Đã đăng trên mọi sàn hộ có gian hàng.' : 'Hộ chưa có gian hàng đang hoạt động: mở gian hàng ở mục “Gian hàng trên sàn” trước.')),
    offer.length ? el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Đăng lên sàn đã chọn')) : null);
  const pubOut = publishReports.get(p.id) || el('ul', { class: 'small', 'aria-live': 'polite', 'data-role': 'publish-out' });
  publishReports.set(p.id, pubOut);
  pubForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(pubForm);
    const chosen = [...pubForm.querySelectorAll('input[name=marketplaces]:checked')].map((i) => i.value);
    if (!chosen.length) return showProblem(pubForm, { title: 'Chưa chọn sàn', errors: [{ field: 'marketplaces', message: 'Hãy chọn ít nhất một sàn' }] });
    const r = await api('POST', `/v1/products/${p.id}/listings`, { json: { marketplaces: chosen } });
    if (!r.ok) return showProblem(pubForm, r.problem);
    const name = (c) => marketplaces.find((m) => m.code === c)?.name || c;
    fill(pubOut,
      (r.data.listings || []).map((l) => el('li', {}, el('span', { class: 'note note-ok' }, '✓ ', name(l.marketplace), ': đã gửi yêu cầu đăng; trạng thái tự cập nhật khi sàn trả lời.'))),
      (r.data.refused || []).map((x) => el('li', { 'data-refused': x.marketplace }, el('span', { class: 'note note-error' }, '⚠ ', name(x.marketplace), ': chưa đăng được — ',
        (x.errors || []).map((e) => e.message + (e.detail ? ` (${e.detail})` : '')).join('; ')))));
    refreshProduct(p.id, li);
  });
  // while a marketplace is still deciding, the card asks again by itself
  if ((p.listings || []).some((l) => ['queued', 'submitted', 'pending_review'].includes(l.state))) {
    setTimeout(() => { if (li.isConnected) refreshProduct(p.id, li); }, REVIEW_POLL_MS);
  }

  // fix: edit what the marketplace complained about
  const edit = el('details', {}, el('summary', {}, 'Sửa sản phẩm'));
  const editForm = el('form', { novalidate: true },
    el('div', { class: 'form-error', 'data-role': 'form-error', tabindex: '-1', hidden: true }),
    el('div', { class: 'field' }, el('label', { for: `e-name-${p.id}` }, 'Tên sản phẩm'), el('input', { id: `e-name-${p.id}`, name: 'name', value: p.name })),
    el('div', { class: 'field' }, el('label', { for: `e-price-${p.id}` }, 'Giá bán (đồng)'), el('input', { id: `e-price-${p.id}`, name: 'price_vnd', inputmode: 'numeric', value: p.price_vnd })),
    el('div', { class: 'field' }, el('label', { for: `e-stock-${p.id}` }, 'Số lượng còn'), el('input', { id: `e-stock-${p.id}`, name: 'stock', inputmode: 'numeric', value: p.stock })),
    el('div', { class: 'field' }, el('label', { for: `e-cat-${p.id}` }, 'Ngành hàng'), categorySelect(`e-cat-${p.id}`, p.category)),
    el('div', { class: 'field' }, el('label', { for: `e-weight-${p.id}` }, 'Khối lượng cả bao bì (gam)'), el('input', { id: `e-weight-${p.id}`, name: 'weight_g', inputmode: 'numeric', value: p.weight_g })),
    el('div', { class: 'field' }, el('label', { for: `e-flagship-${p.id}` }, 'Sản phẩm chủ lực (tên trong danh mục OCOP của tỉnh; để trống nếu không có)'),
      el('input', { id: `e-flagship-${p.id}`, name: 'flagship_entry', list: `e-flagship-list-${p.id}`, autocomplete: 'off', value: p.flagship_entry || '' }),
      el('datalist', { id: `e-flagship-list-${p.id}` }), flagshipState(p)),
    el('div', { class: 'field' }, el('label', { for: `e-desc-${p.id}` }, 'Mô tả'), el('textarea', { id: `e-desc-${p.id}`, name: 'description' }, p.description)),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Lưu thay đổi')));
  editForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(editForm);
    const f = editForm.elements;
    const body = { name: f.name.value.trim(), price_vnd: intOrText(f.price_vnd.value), stock: intOrText(f.stock.value), description: f.description.value,
      category: f.category.value, weight_g: intOrText(f.weight_g.value) };
    // another list entry is a new proposal for the Tỉnh đoàn; emptied, the link is removed
    const entry = f.flagship_entry.value.trim();
    if (entry !== (p.flagship_entry || '')) {
      if (entry) body.flagship_entry = entry;
      else body.flagship = false;
    }
    const r = await api('PATCH', `/v1/products/${p.id}`, { json: body, headers: { 'If-Match': `"v${p.version}"` } });
    if (!r.ok) return showProblem(editForm, r.problem);
    refreshProduct(p.id, li);
  });
  edit.appendChild(editForm);
  flagshipSearch(editForm.elements.flagship_entry, editForm.querySelector('datalist'));

  fill(li,
    el('div', { class: 'row' }, el('strong', {}, p.name), el('span', {}, fmtVnd(p.price_vnd), ' · còn ', fmtNum(p.stock), p.flagship ? ' · ' : '', p.flagship ? el('span', { class: 'badge state-good' }, '★ chủ lực') : null)),
    p.flagship ? null : flagshipState(p),
    photoManager(p, li),
    (p.listings || []).length ? listings : el('p', { class: 'small muted' }, 'Chưa đăng lên sàn nào.'),
    el('div', { class: 'field' }, el('label', { for: photoId }, 'Thêm ảnh'), photo, el('p', { class: 'hint' }, PHOTO_LIMIT_TEXT), report),
    pubForm, pubOut, edit);
  return li;
}

function categorySelect(id, value) {
  const list = categories.length ? categories : [{ code: value, name_vi: value }];
  return el('select', { id, name: 'category' }, list.map((c) => el('option', { value: c.code, selected: c.code === value }, c.name_vi)));
}

async function refreshProduct(id, li) {
  const r = await api('GET', `/v1/products/${id}`);
  if (r.ok) li.replaceWith(productCard(r.data));
}

async function loadProducts() {
  const list = $('products');
  const r = await api('GET', `/v1/products?household=${encodeURIComponent(current.code)}&limit=100`);
  if (!r.ok) return fill(list, el('li', {}, el('span', { class: 'note note-error' }, '⚠ ', r.problem.title)));
  if (!r.data.items.length) return fill(list, el('li', { class: 'muted' }, 'Hộ chưa có sản phẩm nào.'));
  const [full] = await Promise.all([Promise.all(r.data.items.map((p) => api('GET', `/v1/products/${p.id}`))), loadActiveShops()]);
  fill(list, full.map((x, i) => productCard(x.ok ? x.data : r.data.items[i])));
}

function setupProduct() {
  const form = $('product');
  watchIdem(form);
  // the categories come from the API (GET /v1/categories), the same list it validates against
  fill(form.elements.category, el('option', { value: '' }, '— chọn ngành hàng —'));
  api('GET', '/v1/categories').then((r) => {
    if (!r.ok) return showProblem(form, r.problem);
    categories = r.data.items;
    fill(form.elements.category, el('option', { value: '' }, '— chọn ngành hàng —'),
      r.data.items.map((c) => el('option', { value: c.code }, c.name_vi)));
  });
  flagshipSearch(form.elements.flagship_entry, $('flagship-list'));
  const preview = $('p-preview');
  let urls = [];
  form.elements.image.addEventListener('change', () => {
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [...form.elements.image.files].map((f) => URL.createObjectURL(f));
    fill(preview, urls.map((u, i) => el('img', { src: u, alt: `Ảnh đã chọn ${i + 1}` })));
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    if (!current) return;
    const f = form.elements;
    const body = {
      name: f.name.value.trim(),
      description: f.description.value,
      category: f.category.value,
      price_vnd: intOrText(f.price_vnd.value),
      weight_g: intOrText(f.weight_g.value),
      stock: intOrText(f.stock.value || '0'),
    };
    // the list entry is proposed; the Tỉnh đoàn approves it before it counts
    if (f.flagship_entry.value.trim()) body.flagship_entry = f.flagship_entry.value.trim();
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    const idem = idemKeyFor(form);
    const path = `/v1/households/${encodeURIComponent(current.code)}/products`;
    const r = await api('POST', path, { json: body, headers: { 'Idempotency-Key': idem } });
    if (r.status === 0) {
      btn.disabled = false;
      await keepOffline(form, { kind: 'product', label: `Sản phẩm của hộ ${current.code}`, method: 'POST', path, body, idem }, $('product-result'));
      return;
    }
    if (!r.ok) {
      btn.disabled = false;
      return showProblem(form, r.problem);
    }
    delete form.dataset.idem;
    const report = el('ul', { class: 'small' });
    fill($('product-result'), el('p', {}, el('span', { class: 'note note-ok' }, '✓ Đã lưu sản phẩm “', r.data.name, '”')), report);
    await uploadPhotos(r.data.id, [...f.image.files], report);
    btn.disabled = false;
    form.reset();
    urls.forEach((u) => URL.revokeObjectURL(u));
    preview.replaceChildren();
    await loadProducts();
  });
}

// --- sales on postmart.vn / voso.vn (issue 11): record one, owners' claims, the export -------------

const todayIso = () => { const d = new Date(Date.now() + 7 * 3600 * 1000); return d.toISOString().slice(0, 10); };

function problemLine(r) {
  const errs = (r.problem.errors || []).map((e) => `${e.field}: ${e.message || e.code}`).join('; ');
  return el('span', { class: 'note note-error', role: 'alert' }, '⚠ ', r.problem.title, r.problem.detail && r.problem.detail !== r.problem.title ? ` (${r.problem.detail})` : '', errs ? ' — ' + errs : '');
}

// Keep a screenshot of the seller centre as the sale's evidence (shrunk on the phone first).
async function sendEvidence(saleId, file, out) {
  const small = await shrinkPhoto(file);
  const fd = new FormData();
  fd.append('image', small, small.type === 'image/jpeg' ? 'man-hinh.jpg' : (file.name || 'man-hinh'));
  out.appendChild(el('span', {}, ' Đang gửi ảnh…'));
  const r = await postWithProgress(`/v1/sales/${saleId}/evidence`, fd, () => {});
  out.lastChild.remove();
  out.appendChild(r.ok ? el('span', { class: 'note note-ok', 'data-role': 'evidence-ok' }, ' ✓ Đã lưu ảnh làm bằng chứng') : problemLine(r));
}

const saleReports = new Map(); // listing id → the last answer shown under its sale form

// "Ghi nhận đơn đã bán": what the volunteer saw in the seller centre; it counts at once.
function saleForm(l, done) {
  const id = `sale-${l.id}`;
  const f = (name, label, attrs) => el('div', { class: 'field' }, el('label', { for: `${id}-${name}` }, label), el('input', Object.assign({ id: `${id}-${name}`, name }, attrs)));
  const form = el('form', { novalidate: true, 'data-role': 'sale-form' },
    el('div', { class: 'form-error', 'data-role': 'form-error', tabindex: '-1', hidden: true }),
    f('order_code', 'Mã đơn hàng', { required: true, maxlength: 64, autocomplete: 'off' }),
    f('sold_on', 'Ngày bán', { type: 'date', required: true, value: todayIso(), max: todayIso() }),
    f('quantity', 'Số lượng', { type: 'number', required: true, min: 1, value: 1, inputmode: 'numeric' }),
    f('amount_vnd', 'Thành tiền (đồng)', { type: 'number', required: true, min: 0, inputmode: 'numeric' }),
    f('photo', 'Ảnh chụp màn hình đơn hàng (không bắt buộc)', { type: 'file', accept: 'image/*' }),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Ghi nhận đơn đã bán')));
  // the answer follows the listing when its card is redrawn after the sale
  const out = saleReports.get(l.id) || el('div', { 'aria-live': 'polite', 'data-role': 'sale-report' });
  saleReports.set(l.id, out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const v = (n) => form.elements[n].value.trim();
    const body = { listing_id: l.id, order_code: v('order_code'), sold_on: v('sold_on'), quantity: intOrText(v('quantity')), amount_vnd: intOrText(v('amount_vnd')) };
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    const r = await api('POST', '/v1/sales', { json: body, headers: { 'Idempotency-Key': idemKeyFor(form) } });
    btn.disabled = false;
    if (!r.ok) return showProblem(form, r.problem);
    delete form.dataset.idem;
    fill(out, el('span', { class: 'note note-ok', 'data-role': 'sale-ok' }, r.data.duplicate ? `ℹ Đơn ${r.data.order_code} đã được ghi nhận trước đó — không tính lại.` : `✓ Đã ghi nhận đơn ${r.data.order_code}.`));
    const photo = form.elements.photo.files[0];
    if (photo && !r.data.evidence_sha256) await sendEvidence(r.data.id, photo, out);
    form.reset();
    form.elements.sold_on.value = todayIso();
    if (!r.data.duplicate) done();
  });
  watchIdem(form);
  return el('details', { class: 'sale', 'data-role': 'sale', open: out.hasChildNodes() }, el('summary', {}, 'Ghi nhận đơn đã bán'), form, out);
}

// The owners' "Tôi đã bán được hàng" waiting for this volunteer's communes.
async function loadClaims() {
  const box = $('sales-pending');
  if (!box) return;
  const r = await api('GET', '/v1/sales?state=pending&limit=50');
  if (!r.ok) return fill(box, problemLine(r));
  const items = r.data.items || [];
  if (!items.length) return fill(box, el('p', { class: 'small' }, 'Không có báo bán hàng nào đang chờ xác nhận.'));
  fill(box, el('ul', { class: 'claims' }, items.map((c) => {
    const out = el('span', { 'aria-live': 'polite' });
    const decide = (accept) => async () => {
      const r2 = await api('POST', `/v1/sales/${c.id}/decision`, { json: { accept } });
      if (!r2.ok) return fill(out, problemLine(r2));
      fill(out, el('span', { class: 'note note-ok' }, accept ? '✓ Đã xác nhận — đơn được tính' : '✓ Đã từ chối'));
      row.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    };
    const yes = el('button', { type: 'button', 'data-role': 'claim-accept' }, 'Xác nhận');
    const no = el('button', { type: 'button', class: 'secondary', 'data-role': 'claim-reject' }, 'Từ chối');
    yes.addEventListener('click', decide(true));
    no.addEventListener('click', decide(false));
    const row = el('li', { 'data-claim': c.id },
      el('p', {}, el('strong', {}, c.product_name), ` — hộ ${c.household_code}, ${marketplaces.find((m) => m.code === c.marketplace)?.name || c.marketplace}`),
      el('p', { class: 'small' }, `Mã đơn ${c.order_code} · ngày ${c.sold_on.split('-').reverse().join('/')} · ${fmtNum(c.quantity)} sản phẩm · ${fmtVnd(c.amount_vnd)}`),
      c.evidence_url ? el('p', { class: 'small' }, el('a', { href: c.evidence_url, rel: 'noopener', 'data-role': 'claim-evidence' }, el('img', { src: c.evidence_url, alt: 'Ảnh màn hình đơn hàng (bằng chứng)', class: 'evidence-thumb' }), ' Xem ảnh bằng chứng')) : null,
      el('div', { class: 'actions' }, yes, no, out));
    return row;
  })));
}

// The seller centre's order export (CSV/XLSX), as `choso orders import` does.
function setupSalesImport() {
  const form = $('sales-import');
  if (!form) return;
  watchIdem(form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const file = form.elements.file.files[0];
    if (!file) return showProblem(form, { title: 'Chưa chọn tệp', errors: [{ field: 'file', message: 'Hãy chọn tệp xuất đơn hàng (.xlsx hoặc .csv)' }] });
    const fd = new FormData();
    fd.append('marketplace', form.elements.marketplace.value);
    fd.append('file', file, file.name);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    const r = await api('POST', '/v1/sales/import', { form: fd, headers: { 'Idempotency-Key': idemKeyFor(form) } });
    btn.disabled = false;
    if (!r.ok) return showProblem(form, r.problem);
    delete form.dataset.idem;
    const d = r.data;
    fill($('sales-import-status'),
      el('p', { 'data-role': 'sales-import-report' }, d.rejected ? '⚠ ' : '✓ ', `${fmtNum(d.rows)} dòng: ${fmtNum(d.recorded)} đơn mới được tính, ${fmtNum(d.duplicates)} đã có, ${fmtNum(d.skipped)} chưa giao/đã huỷ, ${fmtNum(d.rejected)} bị từ chối.`),
      (d.errors || []).length ? el('ul', { class: 'small' }, d.errors.map((e) => el('li', {}, e))) : null);
    form.reset();
    if (current) loadProducts();
  });
}

// --- spreadsheet import --------------------------------------------------------------------------------

const IMPORT_STATES = { queued: 'Đang chờ xử lý', running: 'Đang xử lý', done: 'Đã xong', failed: 'Không đọc được tệp' };

function importView(imp) {
  const total = imp.total_rows || 0;
  const done = imp.rows_done || 0;
  const finished = imp.state === 'done' || imp.state === 'failed';
  const parts = [['created', 'mới'], ['updated', 'cập nhật'], ['unchanged', 'không đổi'], ['rejected', 'bị từ chối'], ['repaired', 'đã tự sửa lỗi bảng tính']]
    .filter(([k]) => typeof imp[k] === 'number').map(([k, label]) => el('span', { 'data-count': k }, `${label}: ${fmtNum(imp[k])}`));
  const icon = imp.state === 'done' ? (imp.rejected ? '⚠ ' : '✓ ') : imp.state === 'failed' ? '✗ ' : '… ';
  return el('div', { 'data-import': imp.id, 'data-state': imp.state || '' },
    el('p', {}, `Lần tải #${imp.id}${imp.filename ? ' (' + imp.filename + ')' : ''}${imp.dry_run ? ' — chỉ kiểm tra' : ''}: `, el('strong', {}, icon, IMPORT_STATES[imp.state] || imp.state || ''),
      total ? ` — ${fmtNum(done)}/${fmtNum(total)} dòng` : ''),
    total && !finished ? el('progress', { max: total, value: done }, `${done}/${total}`) : null,
    parts.length ? el('p', { class: 'small' }, parts.flatMap((p, i) => (i ? [' · ', p] : [p]))) : null,
    imp.error ? el('p', {}, el('span', { class: 'note note-error' }, '⚠ ', imp.error)) : null,
    (imp.warnings || []).length ? el('ul', { class: 'small' }, imp.warnings.map((w) => el('li', {}, 'ℹ ', w.message))) : null,
    (imp.rejects || []).length ? el('details', {}, el('summary', {}, 'Các dòng bị từ chối đầu tiên'),
      el('ul', { class: 'small' }, imp.rejects.map((r) => el('li', {}, `Dòng ${r.row}: `, r.message || (r.errors || []).map((e) => `${e.field}: ${e.message}`).join('; '))))) : null,
    imp.rejected > 0 ? el('p', {}, 'Tải các dòng bị từ chối kèm lý do, sửa rồi tải lại riêng tệp đó: ',
      el('a', { href: `/v1/imports/${imp.id}/errors.xlsx`, download: true, 'data-role': 'errors-xlsx' }, 'tệp Excel'), ' · ',
      el('a', { href: `/v1/imports/${imp.id}/errors.csv`, download: true, 'data-role': 'errors-csv' }, 'tệp CSV')) : null);
}

function setupImport() {
  const form = $('import');
  watchIdem(form);
  const kind = form.elements.kind;
  kind.addEventListener('change', () => {
    $('tpl-xlsx').setAttribute('href', `/v1/imports/template.xlsx?kind=${kind.value}`);
    $('tpl-csv').setAttribute('href', `/v1/imports/template.csv?kind=${kind.value}`);
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const file = form.elements.file.files[0];
    if (!file) return showProblem(form, { title: 'Chưa chọn tệp', errors: [{ field: 'file', message: 'Hãy chọn tệp .xlsx hoặc .csv' }] });
    const fd = new FormData();
    fd.append('kind', kind.value);
    if (form.elements.dry_run.checked) fd.append('dry_run', 'true');
    fd.append('file', file, file.name);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    const r = await api('POST', '/v1/imports', { form: fd, headers: { 'Idempotency-Key': idemKeyFor(form) } });
    btn.disabled = false;
    if (!r.ok) return showProblem(form, r.problem);
    delete form.dataset.idem;
    const status = $('import-status');
    let imp = r.data;
    fill(status, importView(imp));
    // follow it until the job has finished (seconds for a village, longer for a district)
    while (imp && !['done', 'failed'].includes(imp.state)) {
      await new Promise((res) => setTimeout(res, 1000));
      const g = await api('GET', `/v1/imports/${imp.id}`);
      if (!g.ok) { say(status, g.problem.title, 'error'); return; }
      imp = g.data;
      fill(status, importView(imp));
    }
    if (imp.kind === 'households' && !imp.dry_run) {
      // imported households have no PIN: one tap shows them, ready to be issued and printed
      if (imp.created > 0) {
        const go = el('button', { type: 'button', class: 'secondary', 'data-role': 'import-pins' }, 'Cấp PIN và in phiếu cho hộ chưa có PIN');
        go.addEventListener('click', async () => {
          $('f-nopin').checked = true;
          await loadHouseholds();
          $('households-card').scrollIntoView({ block: 'start' });
        });
        status.appendChild(el('p', { class: 'small' }, 'Hộ mới nhập chưa có mã PIN. ', go));
      }
      loadHouseholds();
    }
  });
}

// --- fixing a household (issue 13): edit, withdrawal of consent, the duplicate's own page ------

// A citizen ID already registered: "Mở hộ TH-…" when this volunteer may open that household,
// otherwise say whom to ask (it belongs to another commune).
export async function offerExisting(form, code) {
  const box = form.querySelector('[data-role=form-error]');
  const g = await api('GET', '/v1/households/' + encodeURIComponent(code));
  if (g.ok) {
    const open = el('button', { type: 'button', 'data-role': 'open-existing' }, `Mở hộ ${code}`);
    open.addEventListener('click', () => openHousehold(code));
    box.appendChild(el('p', {}, 'Hộ này đã có trong Chợ Số. ', open));
  } else {
    box.appendChild(el('p', {}, `Hộ ${code} thuộc xã/phường khác; hãy báo quản trị viên nếu cần chuyển hộ.`));
  }
}

const EDIT_FIELDS = [
  ['owner_name', 'Họ và tên chủ hộ', {}],
  ['birth_date', 'Ngày sinh (dd/mm/yyyy)', { inputmode: 'numeric' }],
  ['phone', 'Số điện thoại di động', { type: 'tel', inputmode: 'tel' }],
  ['address', 'Địa chỉ (thôn, số nhà)', {}],
  ['business_name', 'Tên hộ kinh doanh / tên gian hàng', {}],
];

function setupHouseholdFix() {
  $('hh-edit-open').addEventListener('click', () => {
    if (!current) return;
    const h = current;
    const form = el('form', { novalidate: true, id: 'hh-edit', class: 'card' },
      el('div', { class: 'form-error', 'data-role': 'form-error', tabindex: '-1', hidden: true }),
      EDIT_FIELDS.map(([name, label, attrs]) => el('div', { class: 'field' }, el('label', { for: 'ed-' + name }, label),
        el('input', Object.assign({ id: 'ed-' + name, name, autocomplete: 'off', value: h[name] ?? '' }, attrs)))),
      el('div', { class: 'field' }, el('label', { for: 'ed-commune_code' }, 'Xã/phường'),
        el('select', { id: 'ed-commune_code', name: 'commune_code' }, Object.entries(communeNames).map(([c, n]) => el('option', { value: c, selected: c === h.commune_code }, `${n} (${c})`)))),
      el('div', { class: 'field' }, el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'has_epayment', checked: !!h.has_epayment }), ' Chủ hộ có tài khoản ngân hàng hoặc ví điện tử')),
      el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Lưu thông tin hộ'), el('button', { type: 'button', class: 'secondary', 'data-role': 'cancel' }, 'Thôi')));
    form.querySelector('[data-role=cancel]').addEventListener('click', () => $('hh-edit-area').replaceChildren());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearProblem(form);
      const f = form.elements;
      const body = {};
      for (const [name] of EDIT_FIELDS) if (f[name].value.trim() !== String(h[name] ?? '')) body[name] = f[name].value.trim();
      if (f.commune_code.value !== h.commune_code) body.commune_code = f.commune_code.value;
      if (f.has_epayment.checked !== !!h.has_epayment) body.has_epayment = f.has_epayment.checked;
      if (!Object.keys(body).length) return $('hh-edit-area').replaceChildren();
      const r = await api('PATCH', '/v1/households/' + encodeURIComponent(h.code), { json: body, headers: { 'If-Match': `"v${h.version}"` } });
      if (!r.ok) return showProblem(form, r.problem.code === 'version_mismatch' ? { ...r.problem, title: 'Hộ vừa được người khác sửa; hãy mở lại hộ rồi sửa lại.' } : r.problem);
      await openHousehold(h.code);
      say($('hh-edit-area'), 'Đã lưu thông tin hộ.', 'ok');
      loadHouseholds();
    });
    fill($('hh-edit-area'), form);
    form.elements.owner_name.focus();
  });
  $('hh-withdraw').addEventListener('click', () => {
    if (!current) return;
    const code = current.code;
    const yes = el('button', { type: 'button', class: 'danger' }, 'Xoá dữ liệu của hộ');
    const no = el('button', { type: 'button', class: 'secondary' }, 'Thôi');
    fill($('hh-edit-area'), el('div', { class: 'card', role: 'alertdialog', 'aria-label': 'Xác nhận rút lại đồng ý' },
      el('p', {}, el('strong', {}, `Chủ hộ ${code} rút lại sự đồng ý?`)),
      el('p', {}, 'Số CCCD, điện thoại, ngày sinh, địa chỉ, tên, mã PIN và ảnh sản phẩm của hộ sẽ bị xoá vĩnh viễn khỏi Chợ Số; không khôi phục được. Gian hàng đã mở trên sàn vẫn thuộc về chủ hộ. Số liệu đã tính chỉ tiêu được giữ ở dạng không tên.'),
      el('div', { class: 'actions' }, yes, no)));
    no.focus();
    no.addEventListener('click', () => $('hh-edit-area').replaceChildren());
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      const r = await api('DELETE', '/v1/households/' + encodeURIComponent(code));
      if (!r.ok) return say($('hh-edit-area'), r.problem.title, 'error');
      current = null;
      $('household-card').hidden = true;
      say($('receipt-area'), `Đã xoá dữ liệu cá nhân của hộ ${code} theo yêu cầu của chủ hộ.`, 'ok');
      loadHouseholds();
    });
  });
}

// --- typed without a signal (issue 13): kept encrypted on the phone, sent when it returns ------

export async function keepOffline(form, item, where) {
  const n = await outboxAdd(item);
  delete form.dataset.idem;
  form.reset();
  fill(where, el('p', { class: 'note note-info', 'data-role': 'kept' }, `ℹ Không có mạng: ${item.label.toLowerCase()} đã được giữ trên máy (mã hoá) và sẽ tự gửi khi có mạng. Đang chờ gửi: ${n}. Đừng đóng trang này trước khi gửi xong.`));
}

async function sendKept() {
  if (!navigator.onLine) return;
  if (!(await refreshSession())) return; // signed out meanwhile: the sign-in comes first
  const area = $('outbox-result');
  const left = await outboxFlush(
    (method, path, json, idem) => api(method, path, { json, headers: { 'Idempotency-Key': idem } }),
    (e, r) => {
      if (e.kind === 'household' && r.ok) {
        area.appendChild(el('div', {}, el('p', { class: 'note note-ok' }, '✓ Đã gửi hộ giữ trên máy — đưa phiếu cho chủ hộ:'), receipt(r.data, 'receipt-kept-' + r.data.code)));
        loadHouseholds();
      } else if (r.ok) {
        area.appendChild(el('p', { class: 'note note-ok' }, '✓ Đã gửi: ', e.label, r.data?.name ? ` “${r.data.name}”` : ''));
        if (current) loadProducts();
      } else {
        const errs = (r.problem.errors || []).map((x) => `${x.field}: ${x.message}`).join('; ');
        area.appendChild(el('p', { class: 'note note-error', role: 'alert' }, '⚠ Không gửi được ', e.label.toLowerCase(), ': ', r.problem.title, errs ? ' — ' + errs : '', '. Hãy nhập lại.'));
      }
    });
  if (!left) document.querySelectorAll('[data-role=kept]').forEach((x) => x.remove());
}

// --- start ---------------------------------------------------------------------------------------------


async function loadMarketplaces(early) {
  let r = early ? await early : null;
  if (!r || !r.ok) r = await api('GET', '/v1/targets');
  marketplaces = r.ok ? r.data.marketplaces || [] : [];
  if (r.ok) renderProgress(r.data);
}

// The rest of the page once the registration form works (volunteer.js has the session the server
// confirmed in `session` by now); `early`: the year's targets, already asked for.
export async function start(early) {
  setupOnboard();
  setupProduct();
  setupImport();
  setupSalesImport();
  setupNewPin();
  $('products-refresh').addEventListener('click', () => { if (current) { loadAccounts(); loadProducts(); } });
  setupHouseholdSearch();
  setupPinBatch();
  setupHouseholdFix();
  window.addEventListener('online', sendKept);
  await outboxPurge();
  await Promise.all([loadMarketplaces(early), loadHouseholds()]);
  await loadClaims();
  sendKept();
  document.body.setAttribute('data-ready', '1');
}
