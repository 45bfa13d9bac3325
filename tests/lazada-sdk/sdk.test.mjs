// tests/lazada-sdk/sdk.test.mjs: the Lazada simulator driven by the public Lazada Open Platform
// SDK for Node.js (npm lazada-open-platform-sdk 2.0.0-0) — its own signer, its own paths and
// parameters — so the simulator answers what a real third-party client calls. Run by
// tests/scripts/test_lazada_sdk.sh, which starts choso-sandbox and passes its URLs in the
// environment. Test code only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const product = require('lazada-open-platform-sdk/lib/LazadaClient/product.js').default ??
    require('lazada-open-platform-sdk/lib/LazadaClient/product.js');
const LazadaRequest = require('lazada-open-platform-sdk/lib/LazadaRequest').default ??
    require('lazada-open-platform-sdk/lib/LazadaRequest');

const GW = process.env.LAZADA_GW;        // http://127.0.0.1:PORT/rest
const AUTH = process.env.LAZADA_AUTH;    // http://127.0.0.1:PORT
const ADMIN = process.env.SANDBOX_ADMIN; // http://127.0.0.1:PORT
const KEY = process.env.LAZADA_APP_KEY;
const SECRET = process.env.LAZADA_APP_SECRET;
const gateway = GW.replace(/^http:\/\//, ''); // the SDK adds the scheme itself
// Every SDK product call: (appKey, appSecret, gateway, accessToken, payload, action, protocol).
const call = (fn, token, payload, action = 'GET') =>
    product[fn](KEY, SECRET, gateway, token, payload, action, 'HTTP');

let token;
let hosted;

test('authorise a shop and take a token with the SDK signer', async () => {
    const redirect = 'http://127.0.0.1:9/v1/oauth/lazada/callback';
    const r = await fetch(`${AUTH}/oauth/authorize?response_type=code&force_auth=true&client_id=${KEY}` +
        `&redirect_uri=${encodeURIComponent(redirect)}&state=sdk1`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    const code = new URL(r.headers.get('location')).searchParams.get('code');
    assert.ok(code);
    const t = await LazadaRequest.post(GW, KEY, SECRET, '/auth/token/create', undefined, { code });
    assert.equal(t.code, '0');
    token = t.access_token;
    assert.ok(token);
});

test('getCategoryTree: a nested tree with Vietnamese names and leaves', async () => {
    const r = await call('getCategoryTree', null, {});
    assert.equal(r.code, '0');
    assert.ok(Array.isArray(r.data) && r.data.length > 0);
    const names = [];
    const leaves = [];
    const walk = (nodes) => nodes.forEach((n) => {
        names.push(n.name);
        if (n.leaf) leaves.push(n.category_id); else walk(n.children);
    });
    walk(r.data);
    assert.ok(names.includes('Bách hóa online'), names.join(', '));
    assert.ok(leaves.includes(10003451));
});

test('getCategoryAttributes: mandatory brand with the marketplace choices', async () => {
    const r = await call('getCategoryAttributes', null, { primary_category_id: '10003451' });
    assert.equal(r.code, '0');
    const brand = r.data.find((a) => a.name === 'brand');
    assert.equal(brand.is_mandatory, 1);
    assert.equal(brand.label, 'Thương hiệu');
    assert.ok(brand.options.some((o) => o.name === 'No Brand'));
    await assert.rejects(call('getCategoryAttributes', null, { primary_category_id: '1' }),
        (e) => e.code === 'E201');
});

test('getBrands (the older /brands/get)', async () => {
    const r = await call('getBrands', null, { offset: '0', limit: '5' });
    assert.equal(r.code, '0');
    assert.equal(r.data.length, 5);
    assert.ok(r.data[0].brand_id);
});

test('migrate, create, list with search and filter, description returned', async () => {
    const m = await call('migrateImage', token, {
        payload: '<?xml version="1.0" encoding="UTF-8" ?><Request><Image><Url>https://choso.example/m/a.jpg</Url></Image></Request>',
    }, 'POST');
    hosted = m.data.image.url;
    const payload = JSON.stringify({ Request: { Product: {
        PrimaryCategory: '10003451', Images: { Image: [hosted] },
        Attributes: { name: 'Nem chua Thanh Hóa', description: 'Nem chua lá ổi, đặc sản xứ Thanh', brand: 'No Brand' },
        Skus: { Sku: [{ SellerSku: 'CS-501', price: '85000', quantity: '20', package_weight: '0.5',
            package_length: '20', package_width: '10', package_height: '5' }] },
    } } });
    const c = await call('createProduct', token, { payload }, 'POST');
    assert.equal(c.code, '0');
    await fetch(`${ADMIN}/__sandbox/review`, { method: 'POST', body: '{"marketplace":"lazada"}',
        headers: { 'content-type': 'application/json' } });
    const l = await call('getProducts', token, { filter: 'live', search: 'nem chua', offset: 0, limit: 10 });
    assert.equal(l.code, '0');
    assert.equal(l.data.total_products, 1);
    assert.equal(l.data.products[0].attributes.description, 'Nem chua lá ổi, đặc sản xứ Thanh');
    const none = await call('getProducts', token, { filter: 'rejected', search: 'nem chua' });
    assert.equal(none.data.total_products, 0);
});

test('setImages and updatePriceQuantity on the live item', async () => {
    const img = JSON.stringify({ Request: { Product: { Skus: { Sku: [{ SellerSku: 'CS-501', Images: { Image: [hosted] } }] } } } });
    assert.equal((await call('setImages', token, { payload: img }, 'POST')).code, '0');


    const body = JSON.stringify({ Request: { Product: { Skus: { Sku: [{ SellerSku: 'CS-501', Price: '99000', Quantity: '4' }] } } } });
    assert.equal((await call('updatePriceQuantity', token, { payload: body }, 'POST')).code, '0');
    const l = await call('getProducts', token, { filter: 'all', sku_seller_list: '["CS-501"]' });
    assert.equal(l.data.products[0].skus[0].price, 99000);
    assert.equal(l.data.products[0].skus[0].quantity, 4);
});

test('removeProduct takes it off every list but "deleted"', async () => {
    const r = await call('removeProduct', token, { seller_sku_list: '["CS-501"]' }, 'POST');
    assert.equal(r.code, '0');
    assert.equal((await call('getProducts', token, { filter: 'all' })).data.total_products, 0);
    assert.equal((await call('getProducts', token, { filter: 'deleted' })).data.total_products, 1);
    await assert.rejects(call('removeProduct', token, { seller_sku_list: '["CS-501"]' }, 'POST'),
        (e) => e.code === '501' && e.detail.length === 1);
});
