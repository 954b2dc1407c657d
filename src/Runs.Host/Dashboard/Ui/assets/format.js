import { h } from './dom.js';

/** The API's status words, in the order a run passes through them. */
export const statuses = ['pending', 'running', 'paused', 'succeeded', 'failed', 'canceled', 'rejected'];
export const terminal = new Set(['succeeded', 'failed', 'canceled', 'rejected']);

/**
 * Okabe–Ito colours, chosen to stay apart under the common colour-vision deficiencies; every status
 * also has its own shape and its word, so colour is never the only cue.
 */
export const statusColours = {
  pending: '#7a7a7a',
  running: '#0072b2',
  paused: '#e69f00',
  succeeded: '#009e73',
  failed: '#d55e00',
  canceled: '#cc79a7',
  rejected: '#56b4e9',
};

const shapes = {
  pending: 'M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11zm0 2a3.5 3.5 0 1 1 0 7a3.5 3.5 0 1 1 0-7z',
  running: 'M4 2l10 6l-10 6z',
  paused: 'M3 2h4v12H3zm6 0h4v12H9z',
  succeeded: 'M2 8.5l1.8-1.8L6.5 9.4l5.7-5.7L14 5.5l-7.5 7.5z',
  failed: 'M3.4 2L8 6.6L12.6 2L14 3.4L9.4 8l4.6 4.6L12.6 14L8 9.4L3.4 14L2 12.6L6.6 8L2 3.4z',
  canceled: 'M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13zm0 2a4.5 4.5 0 0 1 3.6 7.2L5.3 4.4A4.5 4.5 0 0 1 8 3.5zm-3.6 1.8l6.3 6.3A4.5 4.5 0 0 1 4.4 5.3z',
  rejected: 'M5 1.5h6L14.5 5v6L11 14.5H5L1.5 11V5zM4 7v2h8V7z',
};

/** A small filled shape for a status, drawn as SVG so it looks the same whatever fonts the machine has. */
export function statusIcon(status) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', shapes[status] ?? shapes.pending);
  path.setAttribute('fill-rule', 'evenodd');
  svg.append(path);
  return svg;
}

/** The status as the API says it, with its shape and colour. */
export function statusBadge(status) {
  return h('span', { class: `status status-${statuses.includes(status) ? status : 'unknown'}` }, statusIcon(status), h('span', { class: 'word' }, status));
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/** A time in the browser's zone, the exact RFC 3339 value in a tooltip and the datetime attribute. */
export function time(value) {
  if (!value) return '—';
  return h('time', { datetime: value, title: value }, dateTime.format(new Date(value)));
}

export function clockTime(value) {
  const date = new Date(value);
  return `${clock.format(date)}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export function duration(seconds) {
  if (seconds == null) return '—';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function percent(fraction) {
  return fraction == null ? '—' : `${(fraction * 100).toFixed(fraction === 1 ? 0 : 1)} %`;
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

export const number = new Intl.NumberFormat();

/** The browser's IANA time zone, as the daily statistics want it. */
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
