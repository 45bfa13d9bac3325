// web/sw.js: the service worker (issue 13) — the pages open with a weak or no signal. The shell
// (HTML, scripts, styles, icon) is kept and answered from the cache at once, then refreshed from
// the network behind (the server's ETag makes that a 304 most of the time), so a new version is
// in use from the next visit. Reference lists (communes, categories) are network-first with the
// cached copy as fallback. Nothing else of the API — and so nothing personal — is ever cached
// (the volunteer page's first reads are only started early, below, and kept in memory).
'use strict';

const CACHE = 'choso-shell-v3';
const SHELL = ['/', '/index.html', '/volunteer.html', '/owner.html', '/dashboard.html', '/app.js', '/app.css',
  '/volunteer.js', '/volunteer-more.js', '/owner.js', '/dashboard.js', '/signin.js', '/outbox.js', '/boot.js', '/favicon.svg', '/manifest.webmanifest'];
const REFERENCE = ['/v1/admin-units', '/v1/categories'];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL.map((u) => new Request(u, { cache: 'no-cache' })))).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});

async function shell(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req, { ignoreSearch: true });
  const fresh = fetch(req).then((res) => {
    if (res.ok && res.type === 'basic') cache.put(req, res.clone());
    return res;
  });
  if (hit) {
    fresh.catch(() => {}); // offline: the kept copy is the answer
    return hit;
  }
  return fresh;
}

async function reference(req) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok) cache.put(req, res.clone());
    return res;
  } catch (e) {
    const hit = await cache.match(req);
    if (hit) return hit;
    throw e;
  }
}

// The volunteer page's first reads, started the moment its navigation reaches this worker — the
// page itself can ask only after its scripts have run (a second on a slow phone). Each answer is
// kept in memory only (never in Cache Storage: it is personal), handed once to the page's
// identical request within EARLY_MS, then dropped (issue 13, make bench-phone).
const EARLY = ['/v1/session', '/v1/targets', '/v1/households?limit=20&order=newest', '/v1/sales?state=pending&limit=50'];
const EARLY_MS = 10000;
const early = new Map(); // path + query → { at, res }

function startEarly() {
  const at = Date.now();
  for (const p of EARLY) {
    early.set(p, { at, res: fetch(p, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' }) });
  }
}

function takeEarly(url) {
  const k = url.pathname + url.search;
  const e = early.get(k);
  if (!e) return null;
  early.delete(k);
  return Date.now() - e.at < EARLY_MS ? e.res : null;
}

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname === '/volunteer.html') startEarly();
  const pre = url.pathname.startsWith('/v1/') ? takeEarly(url) : null;
  if (pre) return ev.respondWith(pre.catch(() => fetch(req)));
  if (REFERENCE.includes(url.pathname)) return ev.respondWith(reference(req));
  if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/media/')) return;
  if (/^\/([A-Za-z0-9_-]+\.(html|js|css|svg|webmanifest))?$/.test(url.pathname)) ev.respondWith(shell(req));
});
