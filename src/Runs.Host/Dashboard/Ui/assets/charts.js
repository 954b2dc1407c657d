// Charts with uPlot (vendored, MIT). Each chart follows its container's width, and a table of the
// same numbers sits beside it for anyone who cannot see the chart.
import uPlot from './vendor/uplot/uPlot.esm.js';
import { h } from './dom.js';

/** Series colours for telemetry fields: Okabe–Ito again, with dash patterns as a second cue. */
const seriesColours = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'];
const dashes = [[], [6, 3], [2, 3], [8, 3, 2, 3]];

function ink() {
  const style = getComputedStyle(document.documentElement);
  return { text: style.getPropertyValue('--text').trim() || '#222', grid: style.getPropertyValue('--grid').trim() || '#ddd' };
}

function axes(yLabel, yFormat) {
  const { text, grid } = ink();
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return [axis, { ...axis, label: yLabel, values: yFormat ? (u, ticks) => ticks.map(yFormat) : undefined, size: 60 }];
}

/** Mounts a chart in a figure that resizes with the page; returns the figure. */
function mount(title, options, data, signal) {
  const figure = h('figure', { class: 'chart' }, h('figcaption', {}, title));
  const plot = h('div', { class: 'plot', role: 'img', 'aria-label': title });
  figure.append(plot);
  let chart = null;
  const size = () => ({ width: Math.max(240, plot.clientWidth), height: Math.min(280, Math.max(180, Math.round(plot.clientWidth * 0.4))) });
  const observer = new ResizeObserver(() => {
    if (!plot.isConnected || plot.clientWidth === 0) return;
    if (chart) chart.setSize(size());
    else chart = new uPlot({ ...options, ...size() }, data, plot);
  });
  observer.observe(plot);
  signal?.addEventListener('abort', () => { observer.disconnect(); chart?.destroy(); }, { once: true });
  return figure;
}

/**
 * Lines over time. x: seconds since the epoch (shown in the browser's time zone);
 * series: [{ label, values, colour?, format? }].
 */
export function timeChart({ title, x, series, yLabel, yFormat, points = false, colourIndex = 0, signal }) {
  const options = {
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: s.colour ?? seriesColours[(colourIndex + i) % seriesColours.length],
      dash: dashes[(colourIndex + i) % dashes.length],
      width: 2,
      spanGaps: false,
      points: { show: points, size: 6 },
      value: (u, v) => (v == null ? '—' : (s.format ?? yFormat ?? String)(v)),
    }))],
    axes: axes(yLabel, yFormat),
    // Samples taken in one instant still get a readable axis: a minute around them.
    scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 30, max + 30] : [min, max]) } },
    cursor: { drag: { x: false, y: false } },
  };
  return mount(title, options, [x, ...series.map(s => s.values)], signal);
}

/**
 * Stacked bars per day. days: local midnights in seconds since the epoch;
 * stacks: [{ label, colour, values }] from the bottom up. Each bar is drawn from zero to its running
 * total, tallest first, so each colour shows its own share; the legend shows each stack's own count.
 */
export function stackedBars({ title, days, stacks, signal }) {
  const totals = [];
  let running = days.map(() => 0);
  for (const stack of stacks) {
    running = running.map((sum, i) => sum + (stack.values[i] ?? 0));
    totals.push(running);
  }
  const order = stacks.map((_, i) => i).reverse();
  const bars = uPlot.paths.bars({ size: [0.7, 48], align: 0 });
  const options = {
    series: [{ value: (u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleDateString()) },
      ...order.map(i => ({
        label: stacks[i].label,
        stroke: stacks[i].colour,
        fill: stacks[i].colour,
        width: 0,
        paths: bars,
        points: { show: false },
        value: (u, v, si, index) => (index == null ? '—' : String(stacks[i].values[index] ?? 0)),
      }))],
    axes: axes('runs', v => (Number.isInteger(v) ? String(v) : '')),
    scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    cursor: { drag: { x: false, y: false } },
  };
  return mount(title, options, [days, ...order.map(i => totals[i])], signal);
}

/** A day 'YYYY-MM-DD' in the browser's zone, as uPlot's x value (its local midnight). */
export function localDay(date) {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(year, month - 1, day).getTime() / 1000;
}
