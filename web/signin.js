// web/signin.js: the sign-in page — a token becomes a session cookie (POST /v1/session); the
// token itself is never stored by the page. Sends each role to its own page.
import { api, el, fill, showProblem, clearProblem, adoptSession, hasSessionHint, roleName, signOut } from './app.js';

const form = document.getElementById('signin');

function home(role) {
  const next = new URLSearchParams(location.search).get('next');
  // only a page of this site, by plain file name
  if (next && /^[a-z]+\.html$/.test(next)) return next;
  return role === 'volunteer' ? 'volunteer.html' : 'dashboard.html';
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearProblem(form);
  const btn = form.querySelector('button[type=submit]');
  btn.disabled = true;
  const token = form.elements.token.value.trim();
  const r = await api('POST', '/v1/session', { json: { token } });
  btn.disabled = false;
  if (!r.ok) {
    showProblem(form, r.problem);
    return;
  }
  form.elements.token.value = '';
  adoptSession(r.data);
  location.assign(home(r.data.role));
});

// Already signed in on this device: say so, with the way on and a way out.
async function showSignedIn() {
  if (!hasSessionHint()) return;
  const r = await api('GET', '/v1/session');
  if (!r.ok) {
    localStorage.removeItem('choso.signedIn');
    return;
  }
  adoptSession(r.data);
  const box = document.getElementById('signed-in');
  const out = el('button', { type: 'button', class: 'secondary' }, 'Đăng xuất');
  out.addEventListener('click', signOut);
  fill(box,
    el('h2', {}, 'Bạn đang đăng nhập'),
    el('p', {}, r.data.name, ' — ', roleName(r.data.role)),
    el('div', { class: 'actions' }, el('a', { class: 'button', href: home(r.data.role) }, 'Tiếp tục'), out));
  box.hidden = false;
}
showSignedIn();

// Sent here from a page the signed-in role may not open (issue 13): say so, not just a form.
function showDenied() {
  const page = new URLSearchParams(location.search).get('denied');
  if (!page || !/^[a-z]+\.html$/.test(page)) return;
  const names = { 'dashboard.html': 'Bảng theo dõi (dành cho cán bộ Tỉnh đoàn và quản trị)', 'volunteer.html': 'Công việc tình nguyện (dành cho tình nguyện viên và quản trị)' };
  const box = document.getElementById('denied');
  if (!box) return;
  fill(box, el('p', { class: 'note note-error', role: 'alert' }, '⚠ Tài khoản đang đăng nhập không được mở trang ', names[page] || page,
    '. Hãy dùng nút “Tiếp tục” để về trang của bạn, hoặc đăng xuất rồi đăng nhập bằng tài khoản khác.'));
  box.hidden = false;
}
showDenied();

// A volunteer's one-time link (issue 13): `#link=…` (a fragment never reaches a server log) is
// taken off the address at once, then exchanged for a session remembered on this device.
async function signInWithLink() {
  const m = /^#link=([A-Za-z0-9_-]{20,200})$/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname + location.search);
  const box = document.getElementById('link-status');
  fill(box, el('p', {}, 'Đang đăng nhập bằng liên kết…'));
  box.hidden = false;
  const r = await api('POST', '/v1/session/link', { json: { link: m[1] } });
  if (!r.ok) {
    fill(box, el('p', { class: 'note note-error', role: 'alert' }, '⚠ ', r.problem.title || 'Không đăng nhập được bằng liên kết này.'));
    return;
  }
  adoptSession(r.data);
  location.assign(home(r.data.role));
}
signInWithLink();
