// Building the page from data. Text always goes in as text nodes, never as markup: log lines,
// job names and error summaries are whatever runners sent.

/** An element with attributes (on* names add listeners) and children (nodes, strings, arrays, nulls). */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A link to another page of the dashboard, followed without reloading it. */
export function link(path, ...children) {
  return h('a', { href: path, 'data-nav': true }, ...children);
}

/** The app's path for a job, a run, or a page, relative to the dashboard's base. */
export const paths = {
  job: job => `jobs/${encodeURIComponent(job)}`,
  run: (job, run) => `jobs/${encodeURIComponent(job)}/runs/${encodeURIComponent(run)}`,
  withQuery: (path, query) => {
    const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== '')).toString();
    return search ? `${path}?${search}` : path;
  },
};

/** A table with a caption (shown to screen readers, and to everyone when visible is set), in a box that scrolls sideways on narrow screens. */
export function table({ caption, columns, rows, empty = 'Nothing to show.', captionVisible = false }) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', { class: captionVisible ? null : 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col', class: c.class }, c.title)))),
      h('tbody', {}, rows.map(row => h('tr', {}, columns.map(c => h('td', { class: c.class }, c.cell(row))))))));
}

export function section(title, ...children) {
  const id = 'section-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** A definition list from [term, value] pairs; pairs whose value is null are left out. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, value]) => value != null && value !== '')
    .map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

export function setTitle(...parts) {
  document.title = [...parts, 'Runs'].join(' · ');
}

export function sleep(ms, signal) {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
