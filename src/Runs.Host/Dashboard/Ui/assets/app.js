// The dashboard's shell: signing in, the address bar as the page's state, and the pages themselves.
import { ApiError, getJson, signIn, signOut, token } from './api.js';
import { h, setTitle } from './dom.js';
import { failure } from './notice.js';
import { jobsPage } from './pages/jobs.js';
import { jobPage } from './pages/job.js';
import { runPage } from './pages/run.js';
import { statsPage } from './pages/stats.js';
import { searchPage } from './pages/search.js';
import { webhooksPage } from './pages/webhooks.js';

const main = document.getElementById('main');
const basePath = new URL(document.baseURI).pathname;

const routes = [
  { pattern: /^$/, page: jobsPage, section: 'jobs' },
  { pattern: /^jobs\/([^/]+)$/, page: jobPage, section: 'jobs' },
  { pattern: /^jobs\/([^/]+)\/runs\/([^/]+)$/, page: runPage, section: 'jobs' },
  { pattern: /^stats$/, page: statsPage, section: 'stats' },
  { pattern: /^search$/, page: searchPage, section: 'search' },
  { pattern: /^webhooks$/, page: webhooksPage, section: 'webhooks' },
];

/** `/ui#token=…` (on any page) signs this tab in and leaves the address bar without the token. */
function takeTokenFromAddress() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get('token');
  if (!given) return;
  signIn(given);
  fragment.delete('token');
  const rest = fragment.toString();
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
}

function currentPath() {
  const path = location.pathname.startsWith(basePath) ? location.pathname.slice(basePath.length) : '';
  return path.replace(/\/+$/, '');
}

let controller = null;

async function render({ focus = true } = {}) {
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  main.replaceChildren();
  document.getElementById('sign-out').hidden = !token();
  if (!token()) {
    markSection(null);
    signInForm();
    return;
  }
  const path = currentPath();
  const route = routes.find(r => r.pattern.test(path));
  markSection(route?.section);
  try {
    if (!route) {
      notFound();
    } else {
      const params = route.pattern.exec(path).slice(1).map(decodeURIComponent);
      await route.page({ main, params, query: new URLSearchParams(location.search), signal, navigate });
    }
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof ApiError && error.status === 401) return;
    main.append(failure(error));
  }
  if (focus && !signal.aborted) main.querySelector('h1')?.focus();
}

function markSection(section) {
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function notFound() {
  setTitle('Not found');
  main.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'No page of the dashboard lives here. ', h('a', { href: './', 'data-nav': true }, 'See the jobs.')));
}

function signInForm(message) {
  setTitle('Sign in');
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', 'aria-describedby': 'token-help' });
  const status = h('p', { class: 'notice error', role: 'alert', hidden: !message }, message ?? '');
  const form = h('form', { class: 'sign-in', onsubmit: async event => {
    event.preventDefault();
    signIn(input.value);
    try {
      await getJson('/v1/jobs', { trying: true });
    } catch (error) {
      // A token without runs:read is still a token (it may manage webhooks).
      if (!(error instanceof ApiError) || error.status !== 403) {
        signOut();
        status.hidden = false;
        status.textContent = `That token was not accepted: ${error.message}`;
        input.focus();
        return;
      }
    }
    render();
  } },
  h('label', { for: 'token' }, 'API token'),
  input,
  h('p', { id: 'token-help', class: 'help' }, 'A token from ', h('code', {}, 'POST /v1/tokens'), ' or the ', h('code', {}, 'tokens create'),
    ' command. It is kept for this browser tab only. ./run.sh prints a link that signs you in.'),
  h('button', { type: 'submit' }, 'Sign in'),
  status);
  main.append(h('h1', { tabindex: '-1' }, 'Sign in'), form);
  input.focus();
}

export function navigate(target, { replace = false } = {}) {
  const address = new URL(target, document.baseURI);
  if (replace) history.replaceState(null, '', address);
  else history.pushState(null, '', address);
  render();
}

document.addEventListener('click', event => {
  const anchor = event.target.closest?.('a[data-nav]');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const address = new URL(anchor.href);
  if (address.origin !== location.origin || !(address.pathname + '/').startsWith(basePath)) return;
  event.preventDefault();
  if (address.href !== location.href) navigate(address);
});

document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  render();
});

window.addEventListener('popstate', () => render());
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).has('token')) {
    takeTokenFromAddress();
    render();
  }
});
window.addEventListener('runs:signed-out', event => {
  controller?.abort();
  main.replaceChildren();
  document.getElementById('sign-out').hidden = true;
  signInForm(`Signed out: ${(event.detail ?? 'the token is no longer accepted.').replace(/\.?$/, '.')} Sign in again.`);
});

takeTokenFromAddress();
render({ focus: false });
