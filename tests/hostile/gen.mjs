// tests/hostile/gen.mjs: writes tests/hostile/corpus/generated.jsonl, the generated part of the
// bad-input corpus, from the routing table (service/routes.c) and schemas/openapi.yaml: every
// route's path parameters, every documented query parameter, every JSON body field, with values
// a hostile client sends. Deterministic (no randomness), so the file only changes when the routes
// or the spec do. Run by hand after adding routes: node tests/hostile/gen.mjs
// The hand-written cases (raw HTTP, headers, uploads, spreadsheets) are in corpus/nasty.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

// ---- the routing table ------------------------------------------------------------------------
function routes() {
    const src = fs.readFileSync(path.join(root, 'service/routes.c'), 'utf8').replace(/\s+/g, ' ');
    const out = [];
    const re = /\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)", \w+, ([^,]+), ([^}]+)\}/g;
    for (let m; (m = re.exec(src));) out.push({ method: m[1], pattern: m[2], roles: m[3].trim(), flags: m[4].trim() });
    return out;
}

// ---- the spec: query parameters per operation, request body schema properties ------------------
function spec() {
    const lines = fs.readFileSync(path.join(root, 'schemas/openapi.yaml'), 'utf8').split('\n');
    const indent = (l) => l.length - l.trimStart().length;
    const compParams = {}; // After -> name (query only)
    const schemas = {};    // HouseholdInput -> [prop, …]
    let inComp = false, section = '', cur = null, curIndent = 0, propsIndent = -1;
    for (let i = 0; i < lines.length; i++) {
        const l = lines[i];
        if (/^components:/.test(l)) { inComp = true; continue; }
        if (!inComp) continue;
        if (indent(l) === 2 && /^\s+\w+:\s*$/.test(l)) { section = l.trim().slice(0, -1); continue; }
        if (indent(l) === 4 && /^\s+[A-Za-z0-9_]+:/.test(l)) {
            cur = l.trim().split(':')[0]; curIndent = 4; propsIndent = -1;
            if (section === 'parameters') {
                const inl = l.match(/name: ([\w.]+), in: query/);
                if (inl) compParams[cur] = inl[1];
            }
            continue;
        }
        if (!cur) continue;
        if (section === 'parameters') {
            const n = l.match(/^\s+name: ([\w.]+)\s*$/);
            if (n && /in: query/.test(lines[i + 1] || '')) compParams[cur] = n[1];
        } else if (section === 'schemas') {
            if (/^\s+properties:\s*$/.test(l) && propsIndent < 0) { propsIndent = indent(l) + 2; continue; }
            if (propsIndent > 0 && indent(l) === propsIndent) {
                const p = l.trim().match(/^([A-Za-z_][\w]*):/);
                if (p) (schemas[cur] = schemas[cur] || []).push(p[1]);
            } else if (propsIndent > 0 && l.trim() && indent(l) < propsIndent) {
                propsIndent = -1;
            }
        }
        void curIndent;
    }
    const ops = {}; // "GET /v1/x" -> {query: [...], body: 'Schema'}
    let p = null, m = null;
    for (let i = 0; i < lines.length && !/^components:/.test(lines[i]); i++) {
        const l = lines[i];
        if (/^ {2}\/\S*:\s*$/.test(l)) { p = l.trim().slice(0, -1); m = null; continue; }
        const mm = l.match(/^ {4}(get|post|put|patch|delete):\s*$/);
        if (mm && p) { m = `${mm[1].toUpperCase()} ${p}`; ops[m] = { query: [], body: null }; continue; }
        if (!m) continue;
        const inl = l.match(/name: ([\w.]+), in: query/);
        if (inl) ops[m].query.push(inl[1]);
        const n = l.match(/^\s+- name: ([\w.]+)\s*$/);
        if (n && /in: query/.test(lines[i + 1] || '')) ops[m].query.push(n[1]);
        const ref = l.match(/\$ref: '#\/components\/parameters\/(\w+)'/);
        if (ref && compParams[ref[1]]) ops[m].query.push(compParams[ref[1]]);
        const body = l.match(/schema: \{\$ref: '#\/components\/schemas\/(\w+(?:Input|Patch))'\}/);
        if (body && !ops[m].body) ops[m].body = body[1];
    }
    return { ops, schemas };
}

// ---- hostile values ---------------------------------------------------------------------------
// Path segments are sent percent-encoded as given (the server decodes them).
const PATH_VALUES = [
    ['non-ascii', 'TH-2025-0%C4%91'], ['invalid-utf8', '%ff%fe'], ['overlong-slash', '%c0%af'],
    ['overlong-dot', '%c0%ae%c0%ae'], ['emoji', '%F0%9F%98%80'], ['fullwidth-digits', '%EF%BC%91%EF%BC%92'],
    ['rtl-override', 'TH%E2%80%AE-2025'], ['nul', 'a%00b'], ['control', 'a%01b'], ['del', 'a%7fb'],
    ['space', 'a%20b'], ['tab', 'a%09b'], ['newline', 'a%0d%0ab'], ['dotdot', '..'], ['encoded-dotdot', '%2e%2e'],
    ['encoded-slash', 'a%2fb'], ['long', 'x'.repeat(300)], ['very-long', '9'.repeat(1500)],
    ['negative', '-1'], ['zero', '0'], ['int-overflow', '99999999999999999999999'], ['int64-max', '9223372036854775807'],
    ['float', '1.5'], ['exponent', '1e9'], ['hex', '0x10'], ['sql', "1'%20OR%20'1'='1"], ['percent', '%25'],
    ['lone-surrogate', '%ED%A0%80'], ['bom', '%EF%BB%BF1'], ['ligature', '%EF%AC%81'], ['nbsp', '1%C2%A0'],
    ['json', '%7B%7D'], ['html', '%3Cscript%3E'], ['cccd-like', '038095012345'],
];
// Query values, percent-encoded.
const QUERY_VALUES = [
    ['invalid-utf8', '%ff%fe'], ['overlong', '%c0%af'], ['nul', '%00'], ['control', '%01%02'], ['emoji', '%F0%9F%98%80'],
    ['rtl', '%E2%80%AE'], ['long', 'a'.repeat(1500)], ['int-overflow', '99999999999999999999999'], ['negative', '-5'],
    ['empty', ''], ['sql', "'%20OR%201=1--"], ['ligature', '%EF%AC%81%E2%91%B4%E2%85%AB%E3%8E%89'],
    ['fullwidth', '%EF%BC%91'], ['wildcards', '%25_%25'], ['float', '1.0e400'],
];
// JSON values for any body field.
const FIELD_VALUES = [
    ['null', null], ['true', true], ['zero', 0], ['negative', -1], ['huge-int', 1e300], ['int64-edge', 9223372036854775807],
    ['float', 1.5], ['empty', ''], ['spaces', '   '], ['array', [1, 2]], ['object', { a: 1 }],
    ['long', 'a'.repeat(1200)], ['ligatures', 'ﬁﬂﬃ'.repeat(40)], ['parenthesised', '⑴⑵⑶'.repeat(40)],
    ['roman', 'Ⅻ'.repeat(100)], ['squared', '㎉㎈'.repeat(60)], ['emoji', '😀'.repeat(50)], ['nul', 'a\u0000b'],
    ['controls', '\u0001\u0002\u001b[31m'], ['rtl', '\u202eabc'], ['lone-surrogate-escape', '\ud800'],
    ['formula', '=1+1'], ['formula-dash', "-2+3+cmd|' /C calc'!A0"], ['formula-cr', '\r=1+1'], ['html', '<script>x</script>'],
    ['sql', "x'); DROP TABLE households;--"], ['cccd-like', '038095012345'], ['phone-like', '0912345678'],
    ['date-nonsense', '31/02/2001'], ['fullwidth', '１２３'],
];

// Whole bodies for every JSON route, as runs of [base64 bytes, times] so the corpus stays small.
const b64 = (x) => Buffer.from(x).toString('base64');
const once = (x) => [[b64(x), 1]];
const RAW_BODIES = [
    ['invalid-utf8', once(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))],
    ['overlong-in-string', once(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]))],
    ['nul-byte', once('{"a":"x"}\u0000')], ['bom', once('\ufeff{}')], ['empty', []],
    ['not-json', once('hello')], ['array', once('[1,2,3]')], ['string', once('"x"')], ['number', once('1e999999')],
    ['deep-arrays', [[b64('['), 5000], [b64(']'), 5000]]], ['deep-objects', [[b64('{"a":'), 3000], [b64('1'), 1], [b64('}'), 3000]]],
    ['unterminated', once('{"a":"')], ['trailing-garbage', once('{} {}')], ['duplicate-keys', once('{"a":1,"a":2}')],
    ['many-keys', [[b64('{'), 1], [b64('"k":1,'), 3000], [b64('"z":1}'), 1]]],
    ['long-key', [[b64('{"'), 1], [b64('k'), 100000], [b64('":1}'), 1]]], ['huge-number', [[b64('{"a":'), 1], [b64('9'), 5000], [b64('}'), 1]]],
    ['lone-surrogate', once('{"a":"\\ud800"}')], ['escaped-nul-key', once('{"\\u0000":1}')],
    ['big-string', [[b64('{"a":"'), 1], [b64('x'), 900000], [b64('"}'), 1]]],
    ['over-max-body', [[b64('{"a":"'), 1], [b64('x'), 1100000], [b64('"}'), 1]]],
];

function fillPath(pattern, special) {
    // the special parameter gets its hostile value, the others a plausible one
    // @CODE@ and @PID@ become a real household code and product id when replayed
    const plausible = { code: '@CODE@', id: '@PID@', marketplace: 'shopee', sha256: 'a'.repeat(64), household_code: '@CODE@', year: '2026', metric: 'households', file: 'index.html' };
    return pattern.replace(/\{(\w+)\*?\}/g, (_, name) => (name === special.name ? special.value : plausible[name] || '1'));
}

function main() {
    const rs = routes();
    const { ops, schemas } = spec();
    const cases = [];
    const add = (c) => cases.push(c);
    for (const r of rs) {
        const params = [...r.pattern.matchAll(/\{(\w+)\*?\}/g)].map((m) => m[1]);
        const op = ops[`${r.method} ${r.pattern}`] || { query: [], body: null };
        const json = /SVC_R_JSON/.test(r.flags);
        const body = json ? '{}' : undefined;
        for (const name of params)
            for (const [label, value] of PATH_VALUES)
                add({ name: `path ${r.method} ${r.pattern} {${name}}=${label}`, method: r.method, path: fillPath(r.pattern, { name, value }), body, json });
        for (const q of new Set(op.query))
            for (const [label, value] of QUERY_VALUES)
                add({ name: `query ${r.method} ${r.pattern} ${q}=${label}`, method: r.method, path: `${fillPath(r.pattern, {})}?${q}=${value}`, body, json });
        // every route: a query argument nobody documents, and the same argument many times
        add({ name: `query ${r.method} ${r.pattern} unknown`, method: r.method, path: `${fillPath(r.pattern, {})}?%ff=%fe&x`, body, json });
        add({ name: `query ${r.method} ${r.pattern} repeated`, method: r.method, path: `${fillPath(r.pattern, {})}?${'limit=1&'.repeat(200)}`, body, json });
        if (json) {
            // each documented field of a valid body replaced in turn (the replayer makes the
            // valid body: a fresh household or product, or {} for a patch)
            const props = (op.body && schemas[op.body]) || [];
            const base = /^Household/.test(op.body || '') ? (r.method === 'POST' ? 'household' : 'patch')
                : /^Product/.test(op.body || '') ? (r.method === 'POST' ? 'product' : 'patch') : 'empty';
            for (const p of props)
                for (const [label, value] of FIELD_VALUES)
                    add({ name: `body ${r.method} ${r.pattern} ${p}=${label}`, method: r.method, path: fillPath(r.pattern, {}), base, set: { [p]: value }, json });
            for (const [label, b64] of RAW_BODIES)
                add({ name: `raw-body ${r.method} ${r.pattern} ${label}`, method: r.method, path: fillPath(r.pattern, {}), bodyRuns: b64, json });
        }
    }
    fs.mkdirSync(path.join(here, 'corpus'), { recursive: true });
    const file = path.join(here, 'corpus/generated.jsonl');
    fs.writeFileSync(file, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
    console.log(`gen: ${cases.length} cases from ${rs.length} routes → ${path.relative(root, file)}`);
}
main();
