// tests/hostile/limits.mjs: "limits that hold" (issue 10). Holds SLOW connections that trickle
// a request one byte at a time from 17 loopback addresses (127.0.0.2 …), then asks /healthz from
// a fresh address (127.0.0.99) and requires an answer within 1 s; then checks that one address
// cannot hold more than http.per_ip_limit connections. Prints one JSON line of figures; exits 1
// when a limit did not hold.
//   env: CHOSO_BASE_URL, SLOW (default 1000), PER_IP_LIMIT (the server's http.per_ip_limit)
import net from 'node:net';

const base = new URL(process.env.CHOSO_BASE_URL);
const SLOW = Number(process.env.SLOW || 1000);
const PER_IP = Number(process.env.PER_IP_LIMIT || 64);
let ADDRS = Array.from({ length: 17 }, (_, i) => `127.0.0.${i + 2}`);
let fresh = (k) => `127.0.0.${99 + k}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function open(localAddress) {
    return new Promise((resolve) => {
        const s = net.connect({ host: base.hostname, port: Number(base.port), localAddress });
        s.on('connect', () => resolve(s));
        s.on('error', () => resolve(null));
        s.setTimeout(60000);
    });
}

// A connection counts as held while the server has not closed it.
function watch(s) {
    const st = { open: true };
    s.on('close', () => { st.open = false; });
    s.on('error', () => { st.open = false; });
    s.on('data', () => {});
    return st;
}

async function healthz(localAddress) {
    const t0 = process.hrtime.bigint();
    const s = await open(localAddress);
    if (!s) return { ms: -1, status: 0 };
    return new Promise((resolve) => {
        let buf = '';
        const done = (status) => {
            s.destroy();
            resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status });
        };
        const t = setTimeout(() => done(0), 5000);
        s.on('data', (d) => {
            buf += d.toString('latin1');
            const m = buf.match(/^HTTP\/1\.1 (\d{3})/);
            if (m) { clearTimeout(t); done(Number(m[1])); }
        });
        s.write(`GET /healthz HTTP/1.1\r\nHost: ${base.host}\r\nConnection: close\r\n\r\n`);
    });
}

async function main() {
    // 127.0.0.0/8 is all loopback on Linux; where other loopback addresses cannot be bound (some
    // sandboxes), everything comes from one address and the per-address part is skipped
    const probe = await open('127.0.0.2');
    const aliases = !!probe;
    if (probe) probe.destroy();
    if (!aliases) {
        ADDRS = [undefined];
        fresh = () => undefined;
    }
    const before = await healthz(fresh(0));
    // 1. SLOW trickling connections spread over 17 addresses
    const held = [];
    for (let i = 0; i < SLOW; i++) {
        const s = await open(ADDRS[i % ADDRS.length]);
        if (!s) continue;
        held.push({ s, st: watch(s) });
        s.write('G');
    }
    const msg = `ET /v1/households?q=${'a'.repeat(200)} HTTP/1.1\r\nHost: x\r\n`;
    let pos = 0;
    const trickle = setInterval(() => {
        for (const h of held) if (h.st.open) h.s.write(msg[pos % msg.length]);
        pos++;
    }, 500);
    await sleep(1500);
    const samples = [];
    // a sample over 1 s is taken again once from another fresh address: on a loaded shared
    // machine (or under the sanitizers) one scheduling stall is not the server holding back
    const retried = [];
    for (let k = 0; k < 5; k++) {
        let x = await healthz(fresh(k));
        if (!(x.status === 200 && x.ms < 1000)) {
            retried.push(`${x.status}/${x.ms.toFixed(1)}ms`);
            x = await healthz(fresh(k + 10));
        }
        samples.push(x);
        await sleep(200);
    }
    const stillHeld = held.filter((h) => h.st.open).length;
    clearInterval(trickle);
    for (const h of held) h.s.destroy();
    await sleep(500);
    // 2. one address alone: at most PER_IP connections stay open
    const one = [];
    for (let i = 0; aliases && i < PER_IP + 40; i++) {
        const s = await open('127.0.0.50');
        if (s) { one.push({ s, st: watch(s) }); s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); }
    }
    await sleep(1000);
    const oneOpen = one.filter((h) => h.st.open).length;
    const after = await healthz(aliases ? '127.0.0.120' : undefined);
    for (const h of one) h.s.destroy();
    const worst = Math.max(...samples.map((x) => (x.status === 200 ? x.ms : 99999)));
    const out = { slow_opened: held.length, slow_held_by_server: stillHeld, healthz_before_ms: +before.ms.toFixed(1), healthz_worst_ms: +worst.toFixed(1), healthz_samples: samples.map((x) => `${x.status}/${x.ms.toFixed(1)}ms`), healthz_retried: retried, one_address_open: oneOpen, per_ip_limit: PER_IP, healthz_while_one_address_full: `${after.status}/${after.ms.toFixed(1)}ms`, loopback_aliases: aliases };
    console.log(JSON.stringify(out));
    const ok = worst < 1000 && oneOpen <= PER_IP && after.status === 200 && after.ms < 1000;
    process.exit(ok ? 0 : 1);
}
main().catch((e) => { console.error(e); process.exit(2); });
