// tests/bench/phone.bench.mjs: the volunteer page on an emulated slow-3G phone — run only by
// scripts/bench-phone (a benchmark, never part of make test). See that script for the profile
// and the budgets. Each run is a fresh browser profile: the first visit has an empty cache, the
// repeat visit is a new tab in the same profile (the service worker installed by the first).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKENS, launch } from '../browser/harness.mjs';

const RUNS = Number(process.env.BENCH_PHONE_RUNS || 5);
const NET = { offline: false, latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };
const CPU = 4;

// One visit of volunteer.html in `page`, throttled: bytes over the network for the page,
// milliseconds to usable (body[data-usable=1]: signed in, communes in the form, the form
// working) and to ready (body[data-ready=1]: also the household list and the progress drawn).
async function visit(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.send('Network.emulateNetworkConditions', NET);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU });
  let bytes = 0, requests = 0, fromSw = 0;
  // where the time goes: each request's start and end (ms from the navigation), its bytes and
  // whether the service worker answered it (BENCH_PHONE_TRACE=1 prints them)
  const trace = new Map();
  let base = null;
  const rel = (ts) => Math.round((ts - base) * 1000);
  cdp.on('Network.requestWillBeSent', (e) => {
    if (base === null) base = e.timestamp;
    trace.set(e.requestId, { url: new URL(e.request.url).pathname, start: rel(e.timestamp) });
  });
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.fromServiceWorker) fromSw++;
    const t = trace.get(e.requestId);
    if (t) t.sw = e.response.fromServiceWorker;
  });
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    requests++;
    const t = trace.get(e.requestId);
    if (t && base !== null) Object.assign(t, { end: rel(e.timestamp), bytes: e.encodedDataLength });
  });
  // the page's own clock (ms from its navigation start) at the moment each mark is set: the
  // driver's waitForSelector below polls at growing intervals (up to 500 ms apart), so the time
  // it sees the mark can trail the page by a poll interval
  await page.addInitScript(() => {
    const seen = (window.__benchMarks = {});
    new MutationObserver(() => {
      for (const k of ['usable', 'ready']) if (seen[k] === undefined && document.body?.dataset[k] === '1') seen[k] = Math.round(performance.now());
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-usable', 'data-ready'] });
  });
  const t0 = Date.now();
  await page.goto(BASE + '/volunteer.html', { waitUntil: 'commit' });
  await page.waitForSelector('body[data-usable="1"]', { timeout: 60000 });
  const usableSeen = Date.now() - t0;
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const readySeen = Date.now() - t0;
  const { usable, ready } = await page.evaluate(() => window.__benchMarks);
  await cdp.detach();
  if (process.env.BENCH_PHONE_TRACE === '1') {
    console.log(`bench-phone: trace (usable ${usable} ms, ready ${ready} ms; the driver saw them at ${usableSeen}, ${readySeen} ms):`);
    for (const t of [...trace.values()].sort((a, b) => a.start - b.start))
      console.log(`  ${String(t.start).padStart(5)} → ${String(t.end ?? '?').padStart(5)} ms ${String(t.bytes ?? '?').padStart(6)} B${t.sw ? ' (service worker)' : ''} ${t.url}`);
  }
  return { bytes, requests, fromSw, usable, ready, usableSeen };
}

// Bytes the service worker fetched (its own precache), read from the Cache Storage sizes.
async function swBytes(page) {
  return page.evaluate(async () => {
    let n = 0;
    for (const k of await caches.keys()) {
      const c = await caches.open(k);
      for (const r of await c.keys()) n += (await (await c.match(r)).arrayBuffer()).byteLength;
    }
    return n;
  });
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

describe('bench-phone: volunteer.html on slow 3G (400 ms, 400 kbit/s) and a 4× slower CPU', () => {
  it(`first and repeat visit, median of ${RUNS}`, async () => {
    const first = [], repeat = [], precache = [];
    for (let i = 0; i < RUNS; i++) {
      const browser = await launch();
      try {
        const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN', isMobile: true, hasTouch: true });
        // signed in by the API (no page loaded yet, so the cache stays empty)
        const s = await context.request.post(BASE + '/v1/session', { data: { token: TOKENS.volunteer } });
        assert.equal(s.status(), 201, await s.text());
        const p1 = await context.newPage();
        first.push(await visit(context, p1));
        await p1.evaluate(() => navigator.serviceWorker.ready);
        await p1.waitForTimeout(500);
        precache.push(await swBytes(p1));
        await p1.close();
        const p2 = await context.newPage();
        repeat.push(await visit(context, p2));
        await p2.close();
      } finally {
        await browser.close();
      }
    }
    const f = { kb: median(first.map((x) => x.bytes)) / 1024, ms: median(first.map((x) => x.usable)), all: median(first.map((x) => x.ready)), req: median(first.map((x) => x.requests)) };
    const r = { kb: median(repeat.map((x) => x.bytes)) / 1024, ms: median(repeat.map((x) => x.usable)), all: median(repeat.map((x) => x.ready)), sw: median(repeat.map((x) => x.fromSw)) };
    const pc = median(precache) / 1024;
    console.log(`bench-phone: first visit  ${f.kb.toFixed(1)} KB in ${f.req} requests, usable in ${f.ms} ms, list and progress in ${f.all} ms (budget 150 KB, 3000 ms)`);
    console.log(`bench-phone: service worker precache behind it ${pc.toFixed(1)} KB (not counted in the page's first load)`);
    console.log(`bench-phone: repeat visit ${r.kb.toFixed(1)} KB over the network, ${r.sw} answers from the service worker, usable in ${r.ms} ms, list and progress in ${r.all} ms (budget 1000 ms)`);
    console.log(`bench-phone: runs first ${first.map((x) => x.usable).join(',')} ms; repeat ${repeat.map((x) => x.usable).join(',')} ms`);
    console.log(`bench-phone: as the driver saw them (polling): first ${first.map((x) => x.usableSeen).join(',')} ms; repeat ${repeat.map((x) => x.usableSeen).join(',')} ms`);
    assert.ok(f.kb <= 150, 'first visit ≤ 150 KB');
    assert.ok(f.ms <= 3000, 'first visit usable ≤ 3 s');
    assert.ok(r.ms <= 1000, 'repeat visit usable ≤ 1 s');
  });
});
