// web/volunteer.js: the volunteer page's first part — the registration form with the owner's
// consent, its youth label and the volunteer's communes — and nothing else, so a slow phone has
// the form working before it parses the rest (issue 13, make bench-phone: repeat visit usable
// ≤ 1 s). Everything else (receipt, households, products, photos, sales, imports, PIN batches,
// the offline outbox) is volunteer-more.js, imported right after the form works.
import { api, el, fill, showProblem, clearProblem, requireSession, hasSessionHint, keptShape } from './app.js';

const $ = (id) => document.getElementById(id);

export let session = null;
export let communeNames = {};

// the rest of the page, once (a registration sent before it arrived waits for it here)
let rest = null;
const more = () => (rest ||= import('./volunteer-more.js'));

// A fresh Idempotency-Key for each new content of a form: a retried submit (weak signal) is
// answered from the first reply instead of registering twice.
export function idemKeyFor(form) {
  if (!form.dataset.idem) form.dataset.idem = crypto.randomUUID();
  return form.dataset.idem;
}
export function watchIdem(form) {
  form.addEventListener('input', () => { delete form.dataset.idem; });
}

// --- registration (the receipt and what follows are volunteer-more.js) ----------------------------

function setupRegister() {
  const form = $('register');
  watchIdem(form);
  const textVersion = $('consent-text').dataset.version;
  if (session.consent_version && session.consent_version !== textVersion) {
    const m = $('consent-mismatch');
    m.textContent = `⚠ Văn bản đồng ý trên trang này (phiên bản ${textVersion}) khác phiên bản hệ thống đang dùng (${session.consent_version}). Hãy tải lại trang hoặc báo quản trị viên trước khi đăng ký.`;
    m.hidden = false;
    $('register-submit').disabled = true;
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblem(form);
    const f = form.elements;
    const body = {
      owner_name: f.owner_name.value.trim(),
      birth_date: f.birth_date.value.trim(),
      cccd: f.cccd.value.trim(),
      phone: f.phone.value.trim(),
      commune_code: f.commune_code.value,
      has_epayment: f.has_epayment.checked,
      consent: f.consent.checked,
      consent_version: textVersion,
    };
    if (f.address.value.trim()) body.address = f.address.value.trim();
    if (f.business_name.value.trim()) body.business_name = f.business_name.value.trim();
    const btn = $('register-submit');
    btn.disabled = true;
    const idem = idemKeyFor(form);
    const r = await api('POST', '/v1/households', { json: body, headers: { 'Idempotency-Key': idem } });
    btn.disabled = false;
    if (r.status === 0) {
      await (await more()).keepOffline(form, { kind: 'household', label: 'Hộ mới đăng ký', method: 'POST', path: '/v1/households', body, idem }, $('receipt-area'));
      return;
    }
    if (!r.ok) {
      showProblem(form, r.problem);
      if (r.problem.code === 'household_exists' && r.problem.existing) (await more()).offerExisting(form, r.problem.existing);
      return;
    }
    delete form.dataset.idem;
    form.reset();
    const m = await more();
    fill($('receipt-area'), m.receipt(r.data));
    $('receipt').scrollIntoView({ block: 'start' });
    m.loadHouseholds();
  });
}

// --- the youth label, as soon as the birth date is known (issue 13) -------------------------------

const YOUTH_MIN = 16, YOUTH_MAX = 30; // youth.min_age / youth.max_age (Law on Youth 2020)

export function youthText(age, youth) {
  if (age === null || age === undefined || Number.isNaN(age)) return '';
  return youth ? `Thanh niên (${age} tuổi) – tính chỉ tiêu` : 'Ngoài độ tuổi – không tính';
}
export function youthBadge(age, youth) {
  const t = youthText(age, youth);
  return t ? el('span', { class: 'badge ' + (youth ? 'state-good' : 'state-wait'), 'data-role': 'youth' }, (youth ? '✓ ' : '• ') + t) : null;
}
// Age today from "dd/mm/yyyy" (or null while it is not a date yet).
export function ageFrom(text, today = new Date()) {
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(String(text || '').trim());
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(y, mo - 1, d);
  if (dt.getFullYear() !== y || dt.getMonth() !== mo - 1 || dt.getDate() !== d || dt > today) return null;
  let age = today.getFullYear() - y;
  if (today.getMonth() < mo - 1 || (today.getMonth() === mo - 1 && today.getDate() < d)) age--;
  return age;
}
function setupYouthLabel() {
  const input = $('birth_date');
  const out = $('birth-youth');
  const show = () => {
    const age = ageFrom(input.value);
    fill(out, age === null ? null : youthBadge(age, age >= YOUTH_MIN && age <= YOUTH_MAX));
  };
  input.addEventListener('input', show);
  $('register').addEventListener('reset', () => setTimeout(show, 0));
}

export async function loadCommunes() {
  const sel = $('commune_code');
  let list = session.communes || [];
  if (session.role === 'admin') {
    const r = await api('GET', '/v1/admin-units');
    if (r.ok) list = r.data.items.map((u) => ({ code: u.code, name: u.name }));
  }
  communeNames = Object.fromEntries(list.map((c) => [c.code, c.name]));
  fill(sel, list.length > 1 ? el('option', { value: '' }, '— chọn xã/phường —') : null, list.map((c) => el('option', { value: c.code }, `${c.name} (${c.code})`)));
}

// --- start --------------------------------------------------------------------------------------

async function main() {
  // on a slow link every round trip counts: the year's numbers are asked for with the session
  const early = hasSessionHint() ? api('GET', '/v1/targets') : null;
  // a volunteer seen on this browser: the form is drawn from the last session's shape (communes,
  // consent version) while the server confirms the session; an admin needs the commune list
  const shape = keptShape(['volunteer']);
  const confirmed = requireSession(['admin', 'volunteer']);
  session = shape || await confirmed;
  await loadCommunes();
  setupRegister();
  setupYouthLabel();
  // the registration form works from here on (bench-phone's "usable"); the rest follows
  document.body.setAttribute('data-usable', '1');
  // the rest only once the form has been painted: a slow phone's CPU busy parsing 60 KB at that
  // moment would keep the drawn form from answering a tap
  await new Promise((go) => requestAnimationFrame(() => setTimeout(go, 0)));
  more();
  session = await confirmed;
  if (shape && String(shape.communes.map((c) => c.code)) !== String((session.communes || []).map((c) => c.code))) await loadCommunes();
  await (await more()).start(early);
}
main();
