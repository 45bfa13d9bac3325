// tests/hostile/replay.mjs: replays the bad-input corpus (corpus/generated.jsonl and
// corpus/nasty.mjs) against a running system over plain sockets (so bytes go out exactly as
// written) and checks every answer is below 500. Started by scripts/hostile-tests, which also
// checks the process, the in-flight gauge and the logs afterwards.
//   env: CHOSO_BASE_URL, CHOSO_TOKEN_ADMIN, CHOSO_TOKEN_VOLUNTEER, HOSTILE_OUT (summary JSON),
//        HOSTILE_PII (file to write every personal value the corpus sent, one a line),
//        HOSTILE_ONLY (a regular expression: replay only the cases whose name matches)
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nasty from './corpus/nasty.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = new URL(process.env.CHOSO_BASE_URL);
const admin = process.env.CHOSO_TOKEN_ADMIN;
const CONCURRENCY = 6;
const TIMEOUT_MS = 15000;

// ---- one request over a fresh connection --------------------------------------------------------
function send(bytes, { shortWait = false } = {}) {
    return new Promise((resolve) => {
        const s = net.connect({ host: base.hostname, port: Number(base.port) });
        const chunks = [];
        let done = false;
        const finish = (err) => {
            if (done) return;
            done = true;
            clearTimeout(t);
            s.destroy();
            const buf = Buffer.concat(chunks);
            const m = buf.subarray(0, 64).toString('latin1').match(/^HTTP\/1\.[01] (\d{3})/);
            resolve({ status: m ? Number(m[1]) : 0, bytes: buf, err });
        };
        // a request that announces more body than it sends gets its answer after the server's
        // timeout at the latest; we stop waiting sooner and count what came
        const t = setTimeout(() => finish('timeout'), shortWait ? 3000 : TIMEOUT_MS);
        s.on('data', (d) => {
            chunks.push(d);
            // the first answer is enough (pipelined cases answer several)
            const text = Buffer.concat(chunks).toString('latin1');
            const h = text.indexOf('\r\n\r\n');
            if (h > 0) {
                const cl = text.slice(0, h).match(/\r\ncontent-length: *(\d+)/i);
                if (cl && Buffer.concat(chunks).length >= h + 4 + Number(cl[1]) && !/^HTTP\/1\.1 100/.test(text)) finish();
            }
        });
        s.on('error', (e) => finish(e.code || String(e)));
        s.on('close', () => finish());
        s.write(bytes, () => {});
    });
}

function build(c, tok) {
    const headers = { Host: base.host, Connection: 'close', ...(c.headers || {}) };
    if (!('Authorization' in headers) && c.auth !== 'none') headers.Authorization = `Bearer ${tok}`;
    let body = c.body || Buffer.alloc(0);
    if (c.json && body.length && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
    if (body.length || ['POST', 'PUT', 'PATCH'].includes(c.method)) headers['Content-Length'] = String(body.length);
    const head = [`${c.method} ${c.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
    return Buffer.concat([Buffer.from(head + '\r\n\r\n', 'utf8'), body]);
}

async function api(method, p, body, extra = {}) {
    const b = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const r = await send(build({ method, path: p, body: b, json: true, headers: extra }, admin));
    const text = r.bytes.toString('utf8');
    const i = text.indexOf('\r\n\r\n');
    let json = null;
    try { json = JSON.parse(text.slice(i + 4)); } catch { /* not JSON */ }
    const etag = (text.slice(0, i).match(/\r\netag: *("v\d+")/i) || [])[1];
    return { status: r.status, json, etag };
}

// ---- valid bodies the generated cases change one field of --------------------------------------
const pii = [];
let serial = 0;
function household() {
    serial++;
    const cccd = `0381960${String(50000 + serial).padStart(5, '0')}`;
    const phone = `0917${String(100000 + serial).padStart(6, '0')}`;
    pii.push(cccd, phone);
    return { owner_name: 'Lê Thị Hoa', cccd, phone, birth_date: '01/01/1996', commune_code: '14797', address: 'Thôn Đông, xã Hoằng Thanh', business_name: 'Hộ kinh doanh Hoa Nem', consent: true };
}
const product = () => ({ name: 'Nem chua Thanh Hóa', description: 'Nem chua Thanh Hóa làm từ thịt lợn tươi, gói lá chuối.', category: 'food_dish', price_vnd: 150000, stock: 20, weight_g: 500 });

async function seed() {
    const h = await api('POST', '/v1/households', household());
    if (h.status !== 201) throw new Error(`seed household: ${h.status} ${JSON.stringify(h.json)}`);
    const p = await api('POST', `/v1/households/${h.json.code}/products`, product());
    if (p.status !== 201) throw new Error(`seed product: ${p.status} ${JSON.stringify(p.json)}`);
    return { code: h.json.code, pid: String(p.json.id) };
}

const fill = (s, ids) => s.replaceAll('@CODE@', ids.code).replaceAll('@PID@', ids.pid).replaceAll('@TOKEN@', admin);
const fillBuf = (b, ids) => Buffer.from(fill(b.toString('latin1'), ids), 'latin1');

// ---- the run ------------------------------------------------------------------------------------
async function runCase(c, seedIds) {
    let ids = seedIds;
    if (c.raw) return send(fillBuf(c.raw, ids), c);
    const q = { ...c, path: fill(c.path, ids) };
    if (c.bodyRuns) q.body = Buffer.concat(c.bodyRuns.flatMap(([b, n]) => Array(n).fill(Buffer.from(b, 'base64'))));
    if (c.base) {
        let body = {};
        if (c.base === 'household') body = household();
        if (c.base === 'product') body = product();
        if (c.base === 'patch') {
            // a fresh record per patch, so one case's change never hides the next one's
            ids = { ...(await seed()) };
            q.path = fill(c.path, ids);
            const cur = await api('GET', q.path);
            q.headers = { ...(q.headers || {}), 'If-Match': cur.etag || '"v1"' };
        }
        q.body = Buffer.from(JSON.stringify({ ...body, ...c.set }));
    }
    if (q.body && !Buffer.isBuffer(q.body)) q.body = Buffer.from(q.body);
    if (q.headers) for (const k of Object.keys(q.headers)) q.headers[k] = fill(String(q.headers[k]), ids);
    if (q.body && c.importCheck) q.body = fillBuf(q.body, ids);
    const r = await send(build(q, admin), c);
    if (c.importCheck && r.status === 202) r.importHref = (r.bytes.toString('utf8').match(/"href":"([^"]+)"/) || [])[1];
    return r;
}

async function main() {
    const generated = fs.readFileSync(path.join(here, 'corpus/generated.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    let cases = [...nasty(pii), ...generated];
    if (process.env.HOSTILE_ONLY) cases = cases.filter((c) => new RegExp(process.env.HOSTILE_ONLY).test(c.name));
    for (const v of ['038095012345', '0912345678']) pii.push(v); // the fixed values FIELD_VALUES sends
    const seedIds = await seed();
    const results = new Array(cases.length);
    let next = 0;
    const t0 = Date.now();
    async function worker() {
        while (next < cases.length) {
            const i = next++;
            results[i] = await runCase(cases[i], seedIds);
        }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // imports: each file must end (done or failed), never stay queued/running
    const imports = results.map((r, i) => [r, cases[i]]).filter(([r]) => r.importHref);
    const stuck = [];
    for (const [r, c] of imports) {
        let state = '';
        for (let k = 0; k < 150; k++) {
            const g = await api('GET', r.importHref);
            state = g.json && g.json.state;
            if (state === 'done' || state === 'failed') break;
            await new Promise((res) => setTimeout(res, 200));
        }
        if (state !== 'done' && state !== 'failed') stuck.push(`${c.name}: ${state}`);
    }
    const by = {};
    const bad = [];
    const noAnswer = [];
    results.forEach((r, i) => {
        const k = r.status ? `${Math.floor(r.status / 100)}xx` : 'no answer';
        by[k] = (by[k] || 0) + 1;
        if (r.status >= 500 && !(cases[i].allow || []).includes(r.status)) bad.push(`${cases[i].name}: ${r.status} ${r.bytes.toString('utf8').split('\r\n\r\n')[1]?.slice(0, 200)}`);
        if (!r.status && !cases[i].mayClose && !cases[i].shortWait) noAnswer.push(`${cases[i].name}: ${r.err || 'closed'}`);
    });
    const allowed = results.filter((r, i) => r.status >= 500 && (cases[i].allow || []).includes(r.status)).length;
    const summary = { cases: cases.length, allowed505: allowed, seconds: (Date.now() - t0) / 1000, by, fivexx: bad.length, bad, noAnswer, imports: imports.length, stuck };
    fs.writeFileSync(process.env.HOSTILE_OUT || '/dev/stdout', JSON.stringify(summary, null, 1));
    if (process.env.HOSTILE_PII) fs.writeFileSync(process.env.HOSTILE_PII, [...new Set(pii)].join('\n') + '\n');
    console.log(`replay: ${cases.length} cases in ${summary.seconds.toFixed(1)} s: ${JSON.stringify(by)}; 5xx ${bad.length}, unanswered ${noAnswer.length}, imports ${imports.length} (stuck ${stuck.length})`);
    for (const l of [...bad, ...noAnswer, ...stuck].slice(0, 60)) console.log(`  ${l}`);
    process.exit(bad.length || noAnswer.length || stuck.length ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(2); });
