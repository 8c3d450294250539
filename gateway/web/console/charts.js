// Small SVG charts, drawn here with createElementNS (no library): grouped
// bars and lines over the buckets of a report. Every label is a text node;
// colours come from the stylesheet by class (series-<key>), never from a
// style attribute.

const NS = 'http://www.w3.org/2000/svg';
const W = 640; // the viewBox: the SVG scales to its box
const H = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 34 };

// svg creates an SVG element with attributes and children (nodes or text).
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// niceMax rounds a chart's top value up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}

// frame draws the chart's box: a title, the horizontal grid with the
// values (format) at the left, the bucket labels under it (every nth, so
// they do not overlap), and a legend. It returns the svg and the scales.
function frame({ title, labels, series, max, format }) {
  const top = niceMax(max);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (plotW * i) / Math.max(labels.length, 1);
  const y = (v) => PAD.top + plotH - (plotH * v) / top;
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title },
    svg('title', {}, title));
  const lines = [4, 5, 2, 1].find((n) => Number.isInteger(top / n)) || 4; // whole numbers where they can be
  for (let i = 0; i <= lines; i++) {
    const v = (top * i) / lines;
    root.append(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg('text', { class: 'axis', x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  const every = Math.ceil(labels.length / 8); // labels far enough apart not to overlap
  labels.forEach((l, i) => {
    if (i % every) return;
    root.append(svg('text', { class: 'axis', x: x(i + 0.5), y: H - PAD.bottom + 14, 'text-anchor': 'middle' }, l));
  });
  series.forEach((s, i) => {
    const lx = PAD.left + i * 130;
    root.append(svg('rect', { class: `legend series-${s.key}`, x: lx, y: H - 12, width: 10, height: 10 }),
      svg('text', { class: 'axis', x: lx + 14, y: H - 3 }, s.label));
  });
  return { root, x, y, slot: plotW / Math.max(labels.length, 1) };
}

const plain = (v) => String(Math.round(v * 10) / 10);

// barChart draws, for each bucket (labels[i], rows[i]), one bar per series
// ({key, label}: rows[i][key], missing is 0), side by side. Each bar has
// its value in a <title> and data-key / data-bucket for tests.
export function barChart({ title, labels, rows, series }) {
  const max = Math.max(0, ...rows.flatMap((r) => series.map((s) => Number(r[s.key] || 0))));
  const { root, x, y, slot } = frame({ title, labels, series, max, format: plain });
  const bw = Math.max(1, (slot * 0.8) / series.length);
  rows.forEach((r, i) => {
    series.forEach((s, j) => {
      const v = Number(r[s.key] || 0);
      if (!v) return;
      root.append(svg('rect', {
        class: `bar series-${s.key}`, 'data-key': s.key, 'data-bucket': i, 'data-value': v,
        x: x(i) + slot * 0.1 + j * bw, y: y(v), width: bw, height: y(0) - y(v),
      }, svg('title', {}, `${labels[i]}: ${s.label} ${v}`)));
    });
  });
  return root;
}

// lineChart draws one line per series over the buckets, with a dot where a
// bucket has a value (buckets without one leave a gap). format prints the
// axis values.
export function lineChart({ title, labels, rows, series, format = plain }) {
  const max = Math.max(0, ...rows.flatMap((r) => series.map((s) => Number(r[s.key] || 0))));
  const { root, x, y } = frame({ title, labels, series, max, format });
  for (const s of series) {
    let points = [];
    const flush = () => {
      if (points.length > 1) root.append(svg('polyline', { class: `line series-${s.key}`, 'data-key': s.key, points: points.join(' ') }));
      points = [];
    };
    rows.forEach((r, i) => {
      const v = Number(r[s.key] || 0);
      if (!v) {
        flush();
        return;
      }
      const px = x(i + 0.5);
      points.push(`${px},${y(v)}`);
      root.append(svg('circle', { class: `dot series-${s.key}`, 'data-key': s.key, cx: px, cy: y(v), r: 3 },
        svg('title', {}, `${labels[i]}: ${s.label} ${format(v)}`)));
    });
    flush();
  }
  return root;
}
