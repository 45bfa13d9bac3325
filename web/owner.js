// web/owner.js: the household owner's page — code + PIN (POST /v1/status/{code}, the PIN in the
// body, never in the address) → each marketplace's shop and each product's listings in plain
// words with what to do next. The code may come from the receipt's QR code (#code=…); the PIN
// never does, and nothing is kept after the page is closed.
import { api, el, fill, showProblem, clearProblem, safeUrl } from './app.js';

const form = document.getElementById('lookup');
const result = document.getElementById('result');

const m = /(?:^|[#&])code=([A-Za-z0-9-]{1,24})/.exec(location.hash);
if (m) {
  form.elements.code.value = decodeURIComponent(m[1]).toUpperCase();
  form.elements.pin.focus();
}

// A class for a state, used beside its text label (never instead of it).
function tone(state) {
  if (['active', 'live'].includes(state)) return 'state-good';
  if (['awaiting_owner', 'token_expired'].includes(state)) return 'state-act';
  if (['rejected', 'suspended', 'failed', 'delisted'].includes(state)) return 'state-bad';
  return 'state-wait';
}
const ICON = { 'state-good': '✓', 'state-act': '➜', 'state-bad': '✗', 'state-wait': '…' };
const badge = (state, text) => { const t = tone(state); return el('span', { class: 'badge ' + t, 'data-state': state }, ICON[t] + ' ' + text); };

// A screenshot as a JPEG of at most 1600 px on its longer side (as the volunteer's photos): a
// phone screen's PNG of several MB would fail on a weak signal. Unreadable: sent as it is (the
// service names what is wrong).
async function shrinkShot(file) {
  let bmp;
  try { bmp = await createImageBitmap(file); } catch { return file; }
  const scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
  if (scale === 1 && file.type === 'image/jpeg' && file.size <= 1_500_000) { bmp.close(); return file; }
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(bmp.width * scale));
  c.height = Math.max(1, Math.round(bmp.height * scale));
  c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
  bmp.close();
  return (await new Promise((res) => c.toBlob(res, 'image/jpeg', 0.85))) || file;
}

// The claim's evidence, with the PIN in the form (the owner page has no session).
async function sendScreenshot(who, saleId, file) {
  const small = await shrinkShot(file);
  const fd = new FormData();
  fd.append('pin', who.pin);
  fd.append('image', small, small.type === 'image/jpeg' ? 'man-hinh.jpg' : (file.name || 'man-hinh'));
  const r = await api('POST', `/v1/status/${encodeURIComponent(who.code)}/sales/${saleId}/evidence`, { form: fd });
  if (r.ok) return el('span', { 'data-role': 'evidence-ok' }, ' ✓ Đã gửi ảnh màn hình.');
  const errs = (r.problem.errors || []).map((e) => e.message).join('; ');
  return el('span', { class: 'note note-error', role: 'alert', 'data-role': 'evidence-error' }, ' ⚠ Chưa gửi được ảnh: ', r.problem.title, errs ? ' — ' + errs : '');
}

// "Tôi đã bán được hàng": the owner reports a sale seen in the seller centre of a marketplace
// without an API (postmart.vn, voso.vn, Sendo…); it waits for a volunteer's confirmation (issue 11).
function soldForm(l, who) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  const f = el('form', { class: 'sold', 'data-listing': String(l.listing_id) },
    el('label', {}, 'Mã đơn hàng ', el('input', { name: 'order_code', required: '', maxlength: '64' })),
    el('label', {}, 'Ngày bán ', el('input', { name: 'sold_on', type: 'date', value: today, required: '' })),
    el('label', {}, 'Số lượng ', el('input', { name: 'quantity', type: 'number', min: '1', value: '1', required: '' })),
    el('label', {}, 'Số tiền (đồng) ', el('input', { name: 'amount_vnd', type: 'number', min: '0', required: '' })),
    el('label', {}, 'Ảnh chụp màn hình đơn hàng (không bắt buộc) ', el('input', { name: 'photo', type: 'file', accept: 'image/*' })),
    el('p', { class: 'small muted' }, 'Ảnh được thu nhỏ trên điện thoại trước khi gửi; tình nguyện viên xem ảnh khi xác nhận.'),
    el('button', { type: 'submit' }, 'Gửi'));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(f);
    const json = { pin: who.pin, listing_id: l.listing_id, order_code: f.elements.order_code.value.trim(), sold_on: f.elements.sold_on.value,
      quantity: Number(f.elements.quantity.value), amount_vnd: Number(f.elements.amount_vnd.value) };
    const r = await api('POST', '/v1/status/' + encodeURIComponent(who.code) + '/sales', { json });
    if (!r.ok) return showProblem(f, r.problem);
    const file = f.elements.photo.files[0];
    const said = el('p', { class: 'small', role: 'status' }, r.data.duplicate ? 'Đơn hàng này đã được ghi trước đó.' : 'Đã ghi nhận; tình nguyện viên sẽ xác nhận.');
    const own = r.data.source === 'owner' && r.data.state === 'pending' && !r.data.evidence_sha256;
    fill(f, said);
    if (file && own) said.appendChild(await sendScreenshot(who, r.data.id, file));
  });
  return el('details', {}, el('summary', {}, 'Tôi đã bán được hàng'), f);
}

function render(v, who) {
  const shops = el('ul', { class: 'plain', id: 'shops' });
  for (const s of v.seller_accounts || []) {
    shops.appendChild(el('li', { 'data-marketplace': s.marketplace },
      el('div', { class: 'row' }, el('strong', {}, s.marketplace_name), badge(s.state, s.state_text)),
      el('p', {}, s.next_step),
      safeUrl(s.auth_link) ? el('p', {}, el('a', { class: 'button', href: safeUrl(s.auth_link), rel: 'noopener noreferrer' }, 'Mở liên kết cho phép Chợ Số trên ' + s.marketplace_name)) : null,
      safeUrl(s.shop_url) ? el('p', {}, el('a', { href: safeUrl(s.shop_url), rel: 'noopener noreferrer' }, 'Xem gian hàng trên ' + s.marketplace_name)) : null));
  }
  const products = el('ul', { class: 'plain', id: 'products' });
  for (const p of v.products || []) {
    const ls = el('ul', { class: 'listings' });
    for (const l of p.listings || []) {
      ls.appendChild(el('li', { 'data-marketplace': l.marketplace },
        el('div', { class: 'row' }, el('span', {}, l.marketplace_name), badge(l.state, l.state_text)),
        el('p', { class: 'small' }, l.next_step),
        l.reason ? el('p', { class: 'small' }, 'Lý do sàn đưa ra: ', l.reason) : null,
        (l.problems || []).length ? el('ul', { class: 'small' }, l.problems.map((pr) => el('li', {}, pr.message))) : null,
        safeUrl(l.listing_url) ? el('p', { class: 'small' }, el('a', { href: safeUrl(l.listing_url), rel: 'noopener noreferrer' }, 'Xem sản phẩm trên sàn')) : null,
        l.orders_this_year ? el('p', { class: 'small', 'data-role': 'orders' }, 'Năm nay đã giao ',
          el('strong', {}, String(l.orders_this_year.orders)), ' đơn, ', String(l.orders_this_year.units), ' sản phẩm') : null,
        !['shopee', 'lazada', 'tiktok'].includes(l.marketplace) && l.listing_id && l.state === 'live' ? soldForm(l, who) : null));
    }
    products.appendChild(el('li', {},
      el('strong', {}, p.name),
      (p.listings || []).length ? ls : el('p', { class: 'small muted' }, 'Chưa đăng lên sàn nào. Tình nguyện viên sẽ đăng khi gian hàng sẵn sàng.')));
  }
  const close = el('button', { type: 'button', class: 'secondary' }, 'Xong, ẩn thông tin');
  close.addEventListener('click', () => { result.replaceChildren(); form.elements.pin.value = ''; });
  fill(result,
    el('section', { class: 'card' },
      el('h2', {}, v.business_name || 'Hộ kinh doanh ' + v.household_code),
      el('p', {}, 'Mã hộ: ', el('strong', {}, v.household_code), ' · ', v.commune?.name || '')),
    el('section', { class: 'card' }, el('h2', {}, 'Gian hàng trên các sàn'), shops),
    el('section', { class: 'card' }, el('h2', {}, 'Sản phẩm'), (v.products || []).length ? products : el('p', {}, 'Chưa có sản phẩm nào được đăng ký.')),
    el('div', { class: 'actions' }, close));
}

// --- sign-in help (issue 13): the code as people type it, tries left, the wait in minutes ------

// "th 2026 00037", "TH.2026.00037" → "TH-2026-00037"; null when it cannot be a code (the
// server reads codes the same way, and never counts a malformed one as a wrong PIN).
export function normaliseCode(s) {
  const k = String(s || '').toUpperCase().replace(/[\s.\-/_]/g, '');
  const m = /^TH(\d{4})(\d{5,7})$/.exec(k);
  return m ? `TH-${m[1]}-${m[2]}` : null;
}

const minutes = (sec) => Math.max(1, Math.ceil(Number(sec || 60) / 60));
function waitText(sec) {
  const m = minutes(sec);
  return m >= 120 ? `khoảng ${Math.round(m / 60)} giờ` : `${m} phút`;
}

// The owner-facing sentence for a refused sign-in, beside the PIN.
function pinMessage(status, p) {
  if (p.code === 'pin_wrong') {
    const left = Number.isInteger(p.attempts_left) ? p.attempts_left : null;
    return p.title + (left === null ? '.' : left > 0 ? `. Còn ${left} lần thử.` : '. Lần sai tiếp theo sẽ phải đợi.');
  }
  if (p.code === 'pin_locked') return `Nhập sai nhiều lần. Hãy đợi ${waitText(p.retry_after)} rồi thử lại (chủ hộ ở máy khác vẫn vào được).`;
  if (p.code === 'pin_daily_limit') return `${p.title}. Có thể thử lại sau ${waitText(p.retry_after)}.`;
  return p.title + (status === 429 ? ' — hãy đợi ít phút rồi thử lại.' : '');
}

form.elements.code.addEventListener('blur', () => {
  const c = normaliseCode(form.elements.code.value);
  if (c) form.elements.code.value = c;
});

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearProblem(form);
  const typed = form.elements.code.value.trim();
  const code = normaliseCode(typed) || '';
  const pin = form.elements.pin.value.trim();
  const missing = [];
  if (!typed) missing.push({ field: 'household_code', message: 'Hãy nhập mã hộ' });
  else if (!code) missing.push({ field: 'household_code', message: 'Mã hộ có dạng TH-2026-00037 (ghi trên phiếu); hãy kiểm tra lại' });
  if (!pin) missing.push({ field: 'pin', message: 'Hãy nhập mã PIN' });
  if (missing.length) return showProblem(form, { title: 'Thiếu hoặc sai thông tin', errors: missing });
  form.elements.code.value = code;
  const btn = form.querySelector('button[type=submit]');
  btn.disabled = true;
  const r = await api('POST', '/v1/status/' + encodeURIComponent(code), { json: { pin } });
  btn.disabled = false;
  if (!r.ok) {
    const p = r.problem;
    // wrong code or PIN, or too many tries: said beside the PIN
    if (!p.errors.length && (r.status === 401 || r.status === 404 || r.status === 429))
      p.errors = [{ field: 'pin', message: pinMessage(r.status, p) }];
    showProblem(form, p);
    return;
  }
  render(r.data, { code, pin });
});
