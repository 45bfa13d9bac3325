// web/dashboard.js: the Provincial Youth Union's dashboard — progress of the year against the
// three targets (households, flagship products live, flagship products sold) with the pace line,
// month by month, by commune or former district (sortable, filterable), by marketplace, the
// attention list and the report files; the month chart carries the running total; admins set
// yearly and per-commune goals (form or spreadsheet); the showcase's click-throughs ("promoted").
// Reads GET /v1/targets and GET /v1/attention; every number is drawn as text as well as a shape.
import { api, el, fill, svg, fmtNum, fmtPct, fmtDateTime, fold, requireSession, showProblem, clearProblem } from './app.js';

const METRICS = {
  households_onboarded: { short: 'Hộ lên sàn', unit: 'hộ' },
  flagship_products_live: { short: 'SP chủ lực đang bán', unit: 'sản phẩm' },
  flagship_products_sold: { short: 'SP chủ lực đã bán', unit: 'sản phẩm' },
};
const MAIN = ['households_onboarded', 'flagship_products_live', 'flagship_products_sold'];
const $ = (id) => document.getElementById(id);

let communeNames = {};
let areaRows = [];
let areaSort = { key: null, dir: 1 };

function vnYear() {
  return Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric' }).format(new Date()));
}

function problemNote(target, r) {
  fill(target, el('p', { class: 'note note-error' }, '⚠ ', r.problem.title, r.problem.detail && r.problem.detail !== r.problem.title ? ' (' + r.problem.detail + ')' : ''));
}

// --- the two progress bars with the pace line ------------------------------------------------

function progressCard(m, t) {
  const W = 400, H = 70, barY = 22, barH = 26; // about 1:1 on a phone, so the labels stay readable
  const goal = m.goal || 0;
  const frac = goal > 0 ? Math.min(m.achieved / goal, 1) : 0;
  const paceFrac = t.days_in_year > 0 ? Math.min(t.days_elapsed / t.days_in_year, 1) : 0;
  const paceNow = goal > 0 ? Math.round(goal * paceFrac) : null;
  const behind = m.on_track === false;
  const pid = 'hatch-' + m.metric;
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${m.label}: ${fmtNum(m.achieved)} trên ${fmtNum(m.goal)}` },
    svg('defs', {}, svg('pattern', { id: pid, width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      svg('rect', { width: 8, height: 8, fill: '#f3d9b1' }), svg('rect', { width: 4, height: 8, fill: '#8a4b00' }))),
    svg('rect', { x: 0, y: barY, width: W, height: barH, fill: '#ffffff', stroke: '#4d5560', 'stroke-width': 1.5 }),
    svg('rect', { x: 0, y: barY, width: Math.max(frac * W, m.achieved > 0 ? 2 : 0), height: barH, fill: behind ? `url(#${pid})` : '#1f6f2e', 'data-role': 'fill' }),
    svg('line', { x1: paceFrac * W, x2: paceFrac * W, y1: barY - 8, y2: barY + barH + 8, stroke: '#1b1f24', 'stroke-width': 3, 'stroke-dasharray': '5 3' }),
    svg('text', { x: Math.min(Math.max(paceFrac * W, 70), W - 70), y: 12, 'text-anchor': 'middle', 'font-size': 12, fill: '#1b1f24' }, 'nhịp cần có hôm nay'),
    svg('text', { x: 0, y: H - 2, 'font-size': 12, fill: '#4d5560' }, '0'),
    svg('text', { x: W, y: H - 2, 'font-size': 12, fill: '#4d5560', 'text-anchor': 'end' }, goal ? fmtNum(goal) : 'chưa đặt chỉ tiêu'));
  const status = m.on_track === null || m.on_track === undefined ? null
    : m.on_track ? el('span', { class: 'badge state-good' }, '✓ Đúng tiến độ') : el('span', { class: 'badge state-bad' }, '⚠ Chậm tiến độ');
  const lines = [
    el('p', {}, el('span', { class: 'big', 'data-role': 'achieved' }, fmtNum(m.achieved)), ' / ', el('span', { 'data-role': 'goal' }, fmtNum(m.goal)), ' ', METRICS[m.metric]?.unit || '', ' · ', el('strong', {}, fmtPct(m.percent)), ' ', status),
    paceNow !== null ? el('p', { class: 'small' }, `Nhịp đều đến hôm nay (ngày ${t.days_elapsed}/${t.days_in_year}) là ${fmtNum(paceNow)}.`) : null,
    m.remaining !== null && m.remaining > 0 && t.days_left > 0
      ? el('p', { class: 'small' }, `Còn thiếu ${fmtNum(m.remaining)}: cần khoảng ${fmtNum(m.needed_per_week)} mỗi tuần (${fmtNum(m.needed_per_month)} mỗi tháng) đến 31/12.`)
      : m.remaining === 0 ? el('p', { class: 'small' }, '✓ Đã đạt chỉ tiêu năm.') : null,
    m.projection !== null ? el('p', { class: 'small' }, `Dự báo cả năm theo tốc độ hiện nay: ${fmtNum(m.projection)}.`) : null,
  ];
  return el('section', { class: 'card progress', 'data-metric': m.metric }, el('h2', {}, m.label), chart, lines);
}

// --- month by month ------------------------------------------------------------------------------

function monthChart(rows) {
  const W = 480, H = 240, left = 30, bottom = 24, top = 16, right = 36;
  const max = Math.max(1, ...rows.flatMap((r) => MAIN.map((k) => r.counts[k] || 0)));
  const slot = (W - left) / 12, bw = slot * 0.34;
  const y = (v) => H - bottom - (v / max) * (H - bottom - top);
  const g = [];
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((max * i) / 4);
    g.push(svg('line', { x1: left, x2: W, y1: y(v), y2: y(v), stroke: '#d5dbe1' }), svg('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4d5560' }, fmtNum(v)));
  }
  rows.forEach((r, i) => {
    const x0 = left + i * slot + slot * 0.14;
    MAIN.forEach((k, j) => {
      const v = r.counts[k] || 0;
      const x = x0 + j * bw;
      g.push(svg('rect', { x, y: y(v), width: bw - 2, height: H - bottom - y(v), fill: j === 0 ? '#0b5cad' : 'url(#mhatch)', stroke: '#084784', 'stroke-width': v > 0 ? 1 : 0 }));
      if (v > 0) g.push(svg('text', { x: x + bw / 2 - 1, y: y(v) - 3, 'text-anchor': 'middle', 'font-size': 10, fill: '#1b1f24' }, fmtNum(v)));
    });
    g.push(svg('text', { x: left + i * slot + slot / 2, y: H - 8, 'text-anchor': 'middle', 'font-size': 12, fill: '#1b1f24' }, 'T' + r.month));
  });
  // the running total of households since 1 January, on its own scale (right axis)
  let run = 0;
  const cum = rows.map((r) => (run += r.counts.households_onboarded || 0));
  const cmax = Math.max(1, ...cum);
  const yc = (v) => H - bottom - (v / cmax) * (H - bottom - top);
  const pts = cum.map((v, i) => `${left + i * slot + slot / 2},${yc(v)}`).join(' ');
  g.push(svg('polyline', { points: pts, fill: 'none', stroke: '#b3261e', 'stroke-width': 2.5, 'data-role': 'running-total' }));
  cum.forEach((v, i) => g.push(svg('circle', { cx: left + i * slot + slot / 2, cy: yc(v), r: 3, fill: '#b3261e' })));
  g.push(svg('text', { x: W - right + 40, y: yc(cmax) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#b3261e' }, 'Σ ' + fmtNum(cmax)));
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Số hộ lên sàn và sản phẩm chủ lực lên sàn theo từng tháng' },
    svg('defs', {}, svg('pattern', { id: 'mhatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      svg('rect', { width: 6, height: 6, fill: '#ffffff' }), svg('rect', { width: 3, height: 6, fill: '#0b5cad' }))),
    g);
}

function legend() {
  const sw = (fill) => svg('svg', { width: 18, height: 14, 'aria-hidden': 'true' }, svg('rect', { width: 18, height: 14, fill, stroke: '#084784' }));
  const hatch = svg('svg', { width: 18, height: 14, 'aria-hidden': 'true' },
    svg('defs', {}, svg('pattern', { id: 'lhatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, svg('rect', { width: 6, height: 6, fill: '#fff' }), svg('rect', { width: 3, height: 6, fill: '#0b5cad' }))),
    svg('rect', { width: 18, height: 14, fill: 'url(#lhatch)', stroke: '#084784' }));
  const line = svg('svg', { width: 18, height: 14, 'aria-hidden': 'true' }, svg('line', { x1: 0, x2: 18, y1: 7, y2: 7, stroke: '#b3261e', 'stroke-width': 2.5 }));
  return [el('span', {}, sw('#0b5cad'), ' Hộ lên sàn (cột đặc)'), el('span', {}, hatch, ' Sản phẩm chủ lực lên sàn (cột sọc)'), el('span', {}, line, ' Lũy kế hộ từ đầu năm (đường đỏ, trục phải)')];
}

function simpleTable(head, rows, numericFrom) {
  return el('table', {},
    el('thead', {}, el('tr', {}, head.map((h, i) => el('th', { scope: 'col', class: i >= numericFrom ? 'num' : null }, h)))),
    el('tbody', {}, rows.map((r) => el('tr', { class: r.cls || null }, r.cells.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, c) : el('td', { class: i >= numericFrom ? 'num' : null }, c)))))));
}

// --- communes / former districts ------------------------------------------------------------------

const AREA_COLS = {
  commune: [
    { key: 'name', label: 'Xã/phường', get: (r) => r.commune_name, text: true },
    { key: 'district', label: 'Huyện cũ', get: (r) => r.former_district_name, text: true },
    { key: 'h', label: 'Hộ lên sàn', get: (r) => r.counts.households_onboarded },
    { key: 'hp', label: '% chỉ tiêu xã', get: (r) => r.percent?.households_onboarded ?? null, fmt: fmtPct },
    { key: 'p', label: 'SP chủ lực đang bán', get: (r) => r.counts.flagship_products_live },
    { key: 's', label: 'SP chủ lực đã bán', get: (r) => r.counts.flagship_products_sold },
  ],
  former_district: [
    { key: 'name', label: 'Huyện, thị xã, thành phố cũ', get: (r) => r.former_district_name || r.key || 'Không rõ', text: true },
    { key: 'h', label: 'Hộ lên sàn', get: (r) => r.counts.households_onboarded },
    { key: 'p', label: 'SP chủ lực đang bán', get: (r) => r.counts.flagship_products_live },
    { key: 's', label: 'SP chủ lực đã bán', get: (r) => r.counts.flagship_products_sold },
  ],
};
let areaMode = 'commune';
let areaData = { commune: [], former_district: [] };

function renderArea() {
  const cols = AREA_COLS[areaMode];
  const q = fold($('filter').value.trim());
  let rows = areaData[areaMode].filter((r) => !q || fold(cols[0].get(r)).includes(q) || (cols[1].text && fold(cols[1].get(r)).includes(q)));
  if (areaSort.key) {
    const c = cols.find((c) => c.key === areaSort.key) || cols[0];
    rows = rows.slice().sort((a, b) => {
      const va = c.get(a), vb = c.get(b);
      if (c.text) return areaSort.dir * String(va).localeCompare(String(vb), 'vi');
      return areaSort.dir * ((va ?? -1) - (vb ?? -1));
    });
  }
  const sum = (k) => rows.reduce((s, r) => s + (r.counts[k] || 0), 0);
  const head = el('tr', {}, cols.map((c) => {
    const b = el('button', { type: 'button', class: 'sort', 'data-key': c.key }, c.label, areaSort.key === c.key ? (areaSort.dir > 0 ? ' ▲' : ' ▼') : ' ↕');
    b.addEventListener('click', () => {
      areaSort = { key: c.key, dir: areaSort.key === c.key ? -areaSort.dir : (c.text ? 1 : -1) };
      renderArea();
    });
    return el('th', { scope: 'col', class: c.text ? null : 'num', 'aria-sort': areaSort.key === c.key ? (areaSort.dir > 0 ? 'ascending' : 'descending') : 'none' }, b);
  }));
  const totalCells = cols.map((c, i) => {
    if (i === 0) return el('th', { scope: 'row' }, 'Tổng');
    if (c.text) return el('td', {}, '');
    const metric = { h: 'households_onboarded', p: 'flagship_products_live', s: 'flagship_products_sold' }[c.key];
    return el('td', { class: 'num' }, metric ? fmtNum(sum(metric)) : '');
  });
  const body = rows.map((r) => el('tr', { 'data-code': r.commune_code || r.former_district_code || '' }, cols.map((c, i) => {
    const v = c.get(r);
    if (i === 0) return el('th', { scope: 'row' }, v);
    return el('td', { class: c.text ? null : 'num' }, c.text ? v : (c.fmt || fmtNum)(v));
  })));
  fill($('area-table'), el('table', { id: 'area' }, el('thead', {}, head), el('tbody', {}, el('tr', { class: 'total' }, totalCells), body)));
  $('area-count').textContent = `${fmtNum(rows.length)} dòng` + (q ? ` khớp với “${$('filter').value.trim()}”` : '');
}

// --- attention list -------------------------------------------------------------------------------

function attention(a) {
  const cn = (c) => communeNames[c] || c || '';
  const sections = [
    ['rejected_listings', 'Sản phẩm bị sàn từ chối', (i) => [el('strong', {}, i.product_name), ` (hộ ${i.household_code}, ${cn(i.commune_code)}) — ${i.marketplace}: `, i.reason || i.reason_code || 'sàn không nêu lý do', el('span', { class: 'small muted' }, ' · ' + fmtDateTime(i.since))]],
    ['dead_jobs', 'Việc tự động đã dừng sau nhiều lần thử', (i) => [el('strong', {}, i.kind), ` #${i.job_id} — ${fmtNum(i.attempts)} lần thử: `, i.last_error || '', el('span', { class: 'small muted' }, ' · ' + fmtDateTime(i.finished_at))]],
    ['expiring_authorisations', 'Quyền đăng sản phẩm sắp hết hạn (trong 7 ngày)', (i) => [el('strong', {}, 'Hộ ' + i.household_code), ` (${cn(i.commune_code)}) — ${i.marketplace}: hết hạn `, fmtDateTime(i.refresh_expires_at || i.access_expires_at)]],
    ['onboarded_without_live_product', 'Hộ đã có gian hàng nhưng chưa có sản phẩm đang bán', (i) => [el('strong', {}, 'Hộ ' + i.household_code), ` (${cn(i.commune_code)}) — có gian hàng từ ${fmtDateTime(i.onboarded_at)}, ${fmtNum(i.products)} sản phẩm đã đăng ký`]],
  ];
  return sections.map(([k, title, line]) => {
    const s = a[k] || { items: [], more: false };
    return el('div', { 'data-section': k },
      el('h3', {}, title, ' ', el('span', { class: 'count' }, `(${fmtNum(s.items.length)}${s.more ? '+' : ''})`)),
      s.items.length ? el('ul', {}, s.items.map((i) => el('li', {}, line(i)))) : el('p', { class: 'small muted' }, '✓ Không có mục nào.'));
  });
}

// --- loading ---------------------------------------------------------------------------------------

let loadSeq = 0;
async function load(year) {
  const seq = ++loadSeq;
  const q = (by) => api('GET', `/v1/targets?year=${year}` + (by ? `&by=${by}` : ''));
  const [tot, months, communes, districts, mps] = await Promise.all([q(''), q('month'), q('commune'), q('former_district'), q('marketplace')]);
  if (seq !== loadSeq) return; // a later choice of year is on its way: its answers win
  if (!tot.ok) return problemNote($('kpis'), tot);
  const t = tot.data;
  $('asof').textContent = `Số liệu đến ngày ${t.as_of.split('-').reverse().join('/')} (giờ Việt Nam), tạo lúc ${fmtDateTime(t.generated_at)}. Một hộ được tính vào năm gian hàng đầu tiên của hộ hoạt động; một sản phẩm chủ lực vào năm lần đầu lên sàn.`;
  // one full card per metric the API lists (households, flagship live, flagship sold, …); a
  // demo/training instance's numbers are practice data and say so above them (issue 12)
  fill($('kpis'), t.simulated ? el('p', { class: 'note note-info', 'data-role': 'simulated' }, 'Dữ liệu mô phỏng — bản trình diễn/tập huấn, không phải số liệu thật.') : null,
    t.metrics.map((m) => progressCard(m, t)));
  for (const m of t.metrics) {
    const i = $('goal-' + m.metric);
    if (i) i.placeholder = m.goal === null ? 'chưa đặt' : String(m.goal);
  }
  // the sold target's companions: delivered orders, units and revenue of the year (issue 11)
  if (t.sales) $('kpis').appendChild(el('p', { class: 'small', 'data-role': 'sales' }, 'Đơn hàng đã giao trong năm: ',
    el('strong', { 'data-role': 'orders' }, fmtNum(t.sales.orders)), ' đơn, ',
    el('strong', { 'data-role': 'units' }, fmtNum(t.sales.units)), ' sản phẩm, doanh thu ',
    el('strong', { 'data-role': 'revenue' }, fmtNum(t.sales.revenue_vnd)), ' đ.'));

  if (months.ok) {
    fill($('month-legend'), legend());
    fill($('month-chart'), monthChart(months.data.breakdown));
    const acc = { h: 0, p: 0, s: 0 };
    fill($('month-table'), simpleTable(['Tháng', 'Hộ lên sàn', 'Lũy kế hộ', 'SP chủ lực lên sàn', 'Lũy kế SP lên sàn', 'SP chủ lực đã bán', 'Lũy kế SP đã bán'],
      months.data.breakdown.map((r) => {
        acc.h += r.counts.households_onboarded || 0; acc.p += r.counts.flagship_products_live || 0; acc.s += r.counts.flagship_products_sold || 0;
        return { cells: ['Tháng ' + r.month, fmtNum(r.counts.households_onboarded), fmtNum(acc.h), fmtNum(r.counts.flagship_products_live), fmtNum(acc.p), fmtNum(r.counts.flagship_products_sold), fmtNum(acc.s)] };
      }), 1));
  } else problemNote($('month-chart'), months);

  if (communes.ok) {
    areaData.commune = communes.data.breakdown;
    communeNames = Object.fromEntries(communes.data.breakdown.map((r) => [r.commune_code, r.commune_name]));
    const sel = $('gc-commune');
    if (!sel.options.length) fill(sel, communes.data.breakdown.map((r) => el('option', { value: r.commune_code }, `${r.commune_name} (${r.former_district_name})`)));
  }
  if (districts.ok) areaData.former_district = districts.data.breakdown;
  if (communes.ok || districts.ok) renderArea(); else problemNote($('area-table'), communes);

  if (mps.ok) {
    fill($('mp-table'), simpleTable(['Sàn', 'Hộ lên sàn', 'SP chủ lực lên sàn', 'SP chủ lực đã bán'],
      mps.data.breakdown.map((r) => ({ cells: [r.marketplace_name || r.marketplace_code, fmtNum(r.counts.households_onboarded), fmtNum(r.counts.flagship_products_live), fmtNum(r.counts.flagship_products_sold)] })), 1));
  } else problemNote($('mp-table'), mps);

  $('export-xlsx').setAttribute('href', `/v1/reports/targets.xlsx?year=${year}`);
  $('export-csv').setAttribute('href', `/v1/reports/targets.csv?year=${year}`);
  $('export-csv-vn').setAttribute('href', `/v1/reports/targets-vn.csv?year=${year}`);
  $('export-annual-pdf').setAttribute('href', `/v1/reports/annual.pdf?year=${year}`);
  $('export-annual-xlsx').setAttribute('href', `/v1/reports/annual.xlsx?year=${year}`);
  $('export-evidence').setAttribute('href', `/v1/reports/evidence.csv?year=${year}`);
  $('showcase-link').setAttribute('href', '/showcase'); // a page of choso, not a file of web/
  loadPromoted(year);
}

// --- promoted: click-throughs from the public showcase -------------------------------------------

async function loadPromoted(year) {
  const r = await api('GET', `/v1/showcase/promoted?year=${year}`);
  if (!r.ok) return problemNote($('promoted-body'), r);
  const d = r.data;
  fill($('promoted-body'),
    el('p', {}, 'Tổng cả năm: ', el('strong', { 'data-role': 'promoted-total' }, fmtNum(d.total)), ' lượt bấm mua trên sàn từ ', el('a', { href: '/showcase', target: '_blank', rel: 'noopener' }, 'trang quảng bá'), '.'),
    d.items.length ? el('div', { class: 'table-wrap' }, simpleTable(['Sản phẩm', 'Xã/phường', 'Cả năm', ...Array.from({ length: 12 }, (_, i) => 'T' + (i + 1))],
      d.items.map((i) => ({ cells: [i.name, i.commune, fmtNum(i.clicks), ...i.months.map(fmtNum)] })), 2)) : el('p', { class: 'small muted' }, 'Chưa có lượt bấm nào.'));
}

// --- goals (admin) ------------------------------------------------------------------------------

function goalForms(getYear) {
  $('goals').hidden = false;
  const note = (t) => { $('goals-note').textContent = t; };
  $('goals-year').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    clearProblem(f);
    let n = 0;
    for (const i of f.querySelectorAll('input[type=number]')) {
      if (i.value === '') continue;
      const r = await api('PUT', `/v1/targets/${getYear()}/${i.name}`, { json: { goal: Number(i.value) } });
      if (!r.ok) return showProblem(f, r.problem);
      n++;
      i.value = '';
    }
    note(n ? `Đã lưu ${n} chỉ tiêu năm ${getYear()}.` : 'Chưa nhập chỉ tiêu nào.');
    load(getYear());
  });
  $('goals-commune').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    clearProblem(f);
    const r = await api('PUT', `/v1/targets/${getYear()}/${$('gc-metric').value}`, { json: { goal: Number($('gc-goal').value), commune_code: $('gc-commune').value } });
    if (!r.ok) return showProblem(f, r.problem);
    note(`Đã lưu chỉ tiêu của ${communeNames[$('gc-commune').value] || $('gc-commune').value}.`);
    load(getYear());
  });
  $('goals-upload').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    clearProblem(f);
    const file = $('goals-file').files[0];
    if (!file) return;
    const xlsx = /\.xlsx$/i.test(file.name);
    const r = await api('POST', `/v1/targets/${getYear()}/goals`, { form: file, headers: { 'Content-Type': xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv' } });
    if (!r.ok) return showProblem(f, r.problem);
    note(`Đã cập nhật ${fmtNum(r.data.goals_set)} chỉ tiêu từ tệp ${file.name}.`);
    load(getYear());
  });
}

async function loadAttention() {
  const r = await api('GET', '/v1/attention?limit=50');
  if (!r.ok) return problemNote($('attention-body'), r);
  fill($('attention-body'), attention(r.data));
}

// printing: every folded table opens, so the printout holds the whole of each table
window.addEventListener('beforeprint', () => document.querySelectorAll('details').forEach((d) => { d.dataset.wasOpen = d.open ? '1' : ''; d.open = true; }));
window.addEventListener('afterprint', () => document.querySelectorAll('details').forEach((d) => { d.open = d.dataset.wasOpen === '1'; }));

async function main() {
  const session = await requireSession(['admin', 'monitor']);
  const now = vnYear();
  const sel = $('year');
  for (let y = Math.max(2027, now); y >= 2024; y--) sel.appendChild(el('option', { value: y, selected: y === now }, 'Năm ' + y));
  sel.addEventListener('change', () => load(Number(sel.value)));
  $('group').addEventListener('change', (e) => { areaMode = e.target.value; areaSort = { key: null, dir: 1 }; renderArea(); });
  $('filter').addEventListener('input', renderArea);
  if (session.role === 'admin') goalForms(() => Number(sel.value));
  await load(now);
  await loadAttention();
  document.body.setAttribute('data-ready', '1');
}
main();
