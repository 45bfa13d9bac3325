// web/outbox.js: what a volunteer typed without a signal (issue 13) — a household or a product
// kept on this phone until the connection returns, then sent with the Idempotency-Key it got
// when typed, so a send that half-happened is answered from the first reply and nothing is
// created twice. Kept encrypted (AES-GCM, a fresh 12-byte IV each) under a key that lives only
// in this tab's session (sessionStorage): closing the tab or signing out makes what is left
// unreadable (signing out deletes it at once; a closed tab's entries go at 24 hours, like
// everything older than that); each entry is deleted once sent. Each tab sends only its own.
// Never holds a token or a PIN.
'use strict';

const STORE = 'choso.outbox';
const KEY = 'choso.outbox.key';
const MAX_AGE_MS = 24 * 3600 * 1000;

const b64 = (u8) => btoa(String.fromCharCode(...u8));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// The session's key and its id (so entries of another session are recognised and dropped).
async function sessionKey() {
  let k = null;
  try { k = JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { k = null; }
  if (!k) {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    k = { id: b64(crypto.getRandomValues(new Uint8Array(9))), raw: b64(raw) };
    sessionStorage.setItem(KEY, JSON.stringify(k));
  }
  const key = await crypto.subtle.importKey('raw', unb64(k.raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { id: k.id, key };
}

function load() {
  try {
    const v = JSON.parse(localStorage.getItem(STORE) || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}
const save = (list) => (list.length ? localStorage.setItem(STORE, JSON.stringify(list)) : localStorage.removeItem(STORE));

// Drop anything older than 24 hours, whoever kept it. Another tab's entries are left alone
// (that tab may still send them); once their tab is closed they are unreadable and go at 24 h.
// Returns how many of this session's are left.
export async function outboxPurge(now = Date.now()) {
  // written only when something goes: every open tab runs this when the signal returns, and a
  // stale copy written back by one tab would bring back what another has just sent
  const list = load();
  const left = list.filter((e) => now - e.at < MAX_AGE_MS);
  if (left.length !== list.length) save(left);
  return outboxCount();
}

function sessionKeyId() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || 'null')?.id || null; } catch { return null; }
}
export const outboxCount = () => { const id = sessionKeyId(); return load().filter((e) => e.kid === id).length; };

// Keep one request: {kind, label, method, path, body, idem}. The label is what the page shows
// ("Hộ của Lê Thị Hoa" would be personal: the caller passes a neutral one).
export async function outboxAdd(item) {
  const { id, key } = await sessionKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify({ method: item.method, path: item.path, body: item.body, idem: item.idem }));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain));
  const list = load();
  list.push({ id: crypto.randomUUID(), kid: id, kind: item.kind, label: item.label, at: Date.now(), iv: b64(iv), ct: b64(ct) });
  save(list);
  return list.length;
}

let flushing = false;
// Send what is kept, oldest first, through send(method, path, body, idem) → api()'s answer.
// A network failure (status 0), 5xx or 429 stops and keeps the rest for the next try; any other
// answer — success or a refusal to fix by hand — removes the entry and is handed to done(entry,
// answer). Returns the number still kept.
export async function outboxFlush(send, done) {
  if (flushing) return outboxCount();
  flushing = true;
  try {
    await outboxPurge();
    const { id, key } = await sessionKey();
    for (const e of load().filter((x) => x.kid === id)) {
      if (!load().some((x) => x.id === e.id)) continue; // gone meanwhile (sent, or expired)
      let req;
      try {
        const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(e.iv) }, key, unb64(e.ct));
        req = JSON.parse(new TextDecoder().decode(plain));
      } catch {
        save(load().filter((x) => x.id !== e.id)); // unreadable: never sendable
        continue;
      }
      const r = await send(req.method, req.path, req.body, req.idem);
      if (r.status === 0 || r.status >= 500 || r.status === 429) break;
      save(load().filter((x) => x.id !== e.id));
      done?.(e, r);
    }
  } finally {
    flushing = false;
  }
  return outboxCount();
}
