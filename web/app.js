// web/app.js: what every page shares — calls to the JSON API with the session cookie and the
// X-CSRF-Token, building elements (text only ever through textContent, never markup from data),
// problem+json errors shown next to the field they name, the header with the signed-in user.
// No page logic here, and nothing loaded from anywhere but this service.
'use strict';
import { takeEarly } from './boot.js';

let csrf = '';
let session = null;

// el('p', {class: 'x', for: 'id'}, 'text', child…): attributes by setAttribute (never on*
// handlers, never style), children as text nodes or elements.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') || k === 'style') throw new Error('el: ' + k + ' not allowed');
    e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replace the children of `e` with `children`.
export function fill(e, ...children) {
  e.replaceChildren();
  append(e, children);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on') || k === 'style') throw new Error('svg: ' + k + ' not allowed');
    e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// A link from data (a marketplace's shop or authorisation address) only when it is http(s):
// never javascript: or data: in an href, whatever a row holds.
export function safeUrl(u) {
  if (typeof u !== 'string' || !/^https?:\/\//i.test(u)) return null;
  try {
    const x = new URL(String(u), location.href);
    return x.protocol === 'https:' || x.protocol === 'http:' ? x.href : null;
  } catch {
    return null;
  }
}

const nf = new Intl.NumberFormat('vi-VN');
export const fmtNum = (n) => (n === null || n === undefined ? '—' : nf.format(n));
export const fmtPct = (p) => (p === null || p === undefined ? '—' : nf.format(p) + ' %');
export function fmtDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' });
}
export const fmtVnd = (n) => (n === null || n === undefined ? '—' : nf.format(n) + ' đ');
// Vietnamese text without marks, lower case: "Hạc Thành" → "hac thanh" (filters, sorting).
export const fold = (s) =>
  String(s || '').normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase();

// One API call. opts: {json} body, {form} FormData, {headers}. Resolves to
// {ok, status, data (parsed JSON or null), problem (problem+json or a made-up one), headers}.
export async function api(method, path, opts = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  if (method !== 'GET' && method !== 'HEAD' && !csrf && sessionPending) await sessionPending.catch(() => null);
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    // the page's first reads may already be under way (web/boot.js): the same answer, once
    const early = method === 'GET' && !opts.headers ? takeEarly(path) : undefined;
    res = (early && (await early)) || await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    return { ok: false, status: 0, data: null, problem: { title: 'Không kết nối được máy chủ. Hãy kiểm tra mạng rồi thử lại.', errors: [] } };
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (res.ok) return { ok: true, status: res.status, data, problem: null, headers: res.headers };
  const problem = data && typeof data === 'object' ? data : { title: 'Lỗi ' + res.status, errors: [] };
  if (!Array.isArray(problem.errors)) problem.errors = [];
  return { ok: false, status: res.status, data: null, problem, headers: res.headers };
}

// Show a problem on a form: each field error beside the control whose name (or data-field) is
// the field, the rest in the form's [data-role=form-error] box. Clears earlier errors first.
export function showProblem(form, problem) {
  clearProblem(form);
  const box = form.querySelector('[data-role=form-error]');
  let unplaced = [];
  for (const fe of problem.errors || []) {
    const name = String(fe.field || '');
    const ctl = name && (form.querySelector(`[data-field="${CSS.escape(name)}"]`) || form.elements.namedItem(name));
    if (ctl && ctl.nodeType === 1) {
      const id = (ctl.id || name) + '-error';
      const msg = el('p', { class: 'field-error', id, 'data-error-for': name }, '⚠ ', fe.message || fe.code);
      const holder = ctl.closest('.field') || ctl.parentElement;
      holder.appendChild(msg);
      ctl.setAttribute('aria-invalid', 'true');
      ctl.setAttribute('aria-describedby', id);
    } else {
      unplaced.push(fe);
    }
  }
  if (box) {
    const title = problem.detail && problem.detail !== problem.title ? `${problem.title} (${problem.detail})` : problem.title;
    fill(box, el('strong', {}, '⚠ ', title || 'Có lỗi'), unplaced.length ? el('ul', {}, unplaced.map((fe) => el('li', {}, `${fe.field}: ${fe.message || fe.code}`))) : null);
    box.hidden = false;
    const first = form.querySelector('[aria-invalid=true]');
    (first || box).focus?.();
  }
}

export function clearProblem(form) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => { e.removeAttribute('aria-invalid'); e.removeAttribute('aria-describedby'); });
  const box = form.querySelector('[data-role=form-error]');
  if (box) { box.hidden = true; box.replaceChildren(); }
}

// A short status line in a live region.
export function say(target, text, kind = 'info') {
  const icon = { ok: '✓ ', error: '⚠ ', info: 'ℹ ' }[kind] || '';
  fill(target, el('span', { class: 'note note-' + kind }, icon + text));
}

const ROLE_NAMES = { admin: 'Quản trị', monitor: 'Cán bộ Tỉnh đoàn', volunteer: 'Tình nguyện viên' };
export const roleName = (r) => ROLE_NAMES[r] || r;

// Remember across pages that someone signed in here, so the sign-in page only asks the server
// when there may be a session (the cookie itself is HttpOnly: scripts cannot see it).
const HINT = 'choso.signedIn';
export const hasSessionHint = () => localStorage.getItem(HINT) === '1';

export function adoptSession(s) {
  session = s;
  csrf = s.csrf || '';
  localStorage.setItem(HINT, '1');
  rememberSession(s);
  // what the form needs to be drawn before the server has answered on the next visit: role,
  // communes and consent version only — no name, no CSRF value, nothing personal (issue 13)
  const { role, communes, consent_version: cv, expires_at: exp } = s;
  localStorage.setItem(SHAPE, JSON.stringify({ role, communes, consent_version: cv, expires_at: exp }));
}

// The last session's shape (adoptSession) while it has not expired and its role is allowed; the
// page draws its form from it and requireSession() confirms it (or sends to sign in).
const SHAPE = 'choso.shape';
export function keptShape(roles) {
  try {
    const s = JSON.parse(localStorage.getItem(SHAPE) || 'null');
    if (!s || !roles.includes(s.role) || !Array.isArray(s.communes)) return null;
    return !s.expires_at || new Date(s.expires_at) > new Date() ? s : null;
  } catch {
    return null;
  }
}
let sessionPending = null; // requireSession() under way: a write waits for its CSRF value

// The signed-in user, or a redirect to the sign-in page. `roles`: allowed roles.
export function requireSession(roles) {
  sessionPending = confirmSession(roles);
  return sessionPending;
}
async function confirmSession(roles) {
  const r = await api('GET', '/v1/session');
  const kept = r.status === 0 ? offlineSession() : null;
  if (kept && (!roles || roles.includes(kept.role))) {
    session = kept; // no signal: the page works from what this tab already knew
    renderUserBar(kept);
    return kept;
  }
  if (!r.ok) {
    localStorage.removeItem(HINT);
    localStorage.removeItem(SHAPE);
    location.replace('index.html?next=' + encodeURIComponent(location.pathname.replace(/^\//, '')));
    return new Promise(() => {});
  }
  adoptSession(r.data);
  if (roles && !roles.includes(r.data.role)) {
    // said on the sign-in page: which page this was and who is signed in (issue 13)
    const page = location.pathname.replace(/^\//, '') || 'index.html';
    location.replace('index.html?denied=' + encodeURIComponent(page));
    return new Promise(() => {});
  }
  renderUserBar(r.data);
  return r.data;
}

export async function signOut() {
  await api('DELETE', '/v1/session');
  localStorage.removeItem(HINT);
  forgetOffline();
  csrf = '';
  session = null;
  location.assign('index.html');
}

export async function signOutEverywhere() {
  if (!window.confirm('Đăng xuất khỏi mọi thiết bị đang dùng tài khoản này, kể cả máy này?')) return;
  await api('DELETE', '/v1/session/devices');
  localStorage.removeItem(HINT);
  forgetOffline();
  csrf = '';
  session = null;
  location.assign('index.html');
}

function renderUserBar(s) {
  const bar = document.getElementById('userbar');
  if (!bar) return;
  const links = [];
  if (s.role === 'admin' || s.role === 'monitor') links.push(el('a', { href: 'dashboard.html' }, 'Bảng theo dõi'));
  if (s.role === 'admin' || s.role === 'volunteer') links.push(el('a', { href: 'volunteer.html' }, 'Công việc tình nguyện'));
  if (s.role === 'admin') links.push(el('a', { href: 'categories.html' }, 'Danh mục sàn'));
  if (s.role === 'admin') links.push(el('a', { href: 'volunteers.html' }, 'Tình nguyện viên'));
  if (s.role === 'admin') links.push(el('a', { href: 'flagship.html' }, 'Sản phẩm chủ lực'));
  const out = el('button', { type: 'button', class: 'link' }, 'Đăng xuất');
  out.addEventListener('click', signOut);
  // issue 13: a lost or shared phone — every device of this account signed out at once
  const all = el('button', { type: 'button', class: 'link', id: 'signout-all' }, 'Đăng xuất mọi thiết bị');
  all.addEventListener('click', signOutEverywhere);
  fill(bar, el('span', { class: 'who' }, s.name, ' · ', roleName(s.role)), el('nav', { 'aria-label': 'Trang' }, links), out, all);
}

export function currentSession() {
  return session;
}

// --- weak or no signal (issue 13): the service worker, the session a tab already had, a banner --

// The session's public part (name, role, communes — never the CSRF value) for this tab only, so
// a page opened without a signal still knows who works on it.
const KEPT = 'choso.session';
function rememberSession(s) {
  const { name, role, communes, consent_version: cv, expires_at: exp } = s;
  sessionStorage.setItem(KEPT, JSON.stringify({ name, role, communes, consent_version: cv, expires_at: exp }));
}
function offlineSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEPT) || 'null');
    return s && (!s.expires_at || new Date(s.expires_at) > new Date()) ? s : null;
  } catch {
    return null;
  }
}
function forgetOffline() {
  sessionStorage.clear(); // the outbox key goes with it: what is kept can no longer be read
  localStorage.removeItem('choso.outbox');
  localStorage.removeItem(SHAPE);
}

// Back online: a fresh CSRF value before anything is sent. Resolves true when signed in.
export async function refreshSession() {
  const r = await api('GET', '/v1/session');
  if (r.ok) adoptSession(r.data);
  return r.ok;
}

function offlineBanner() {
  let b = document.getElementById('offline-banner');
  if (navigator.onLine) return b?.remove();
  if (b) return;
  b = el('p', { id: 'offline-banner', class: 'note note-info', role: 'status' },
    'ℹ Đang không có mạng. Trang vẫn dùng được; hộ và sản phẩm nhập lúc này được giữ (mã hoá) trên máy và tự gửi khi có mạng — đừng đóng trang trước khi gửi xong.');
  document.querySelector('main')?.prepend(b);
}
window.addEventListener('online', offlineBanner);
window.addEventListener('offline', offlineBanner);
document.addEventListener('DOMContentLoaded', offlineBanner);

// The service worker's precache (the pages for offline) waits until the page has what it needs
// (body[data-ready]) or 10 s: on slow 3G it would otherwise share the link with the first data.
if ('serviceWorker' in navigator && window.isSecureContext) {
  const register = () => navigator.serviceWorker.register('/sw.js').catch(() => {});
  if (document.body?.dataset.ready === '1') register();
  else {
    let done = false;
    const once = () => { if (!done) { done = true; obs.disconnect(); register(); } };
    const obs = new MutationObserver(() => { if (document.body?.dataset.ready === '1') once(); });
    obs.observe(document.documentElement, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
    setTimeout(once, 10000);
  }
}
