// Every data call is an ordinary /v1 request with the user's token, kept for this tab only.

const key = 'runs.token';

/** The API's root: the dashboard lives at <root>/ui/, whatever path base the host has. */
export const apiRoot = new URL('..', document.baseURI);

export const token = () => sessionStorage.getItem(key);
export const signIn = value => sessionStorage.setItem(key, value.trim());
export const signOut = () => sessionStorage.removeItem(key);

/** An answer other than 2xx, with the problem+json body the API gives (RFC 9457). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

export function url(path, query = {}) {
  const address = new URL(path.replace(/^\//, ''), apiRoot);
  for (const [name, value] of Object.entries(query)) {
    if (value != null && value !== '') address.searchParams.set(name, value);
  }
  return address;
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Sends a request with the token; throws ApiError for any answer but 2xx and 304. A 401 signs the tab
 * out, unless the call is only trying a token (trying).
 */
export async function request(path, { query, accept = 'application/json', signal, headers = {}, trying = false } = {}) {
  const response = await fetch(url(path, query), {
    headers: { Authorization: `Bearer ${token()}`, Accept: accept, ...headers },
    signal,
    cache: 'no-store',
  });
  if (response.ok || response.status === 304) return response;
  throw await failed(response, { signOutOn401: !trying });
}

/** The ApiError for an answer that is not 2xx; a 401 also signs the tab out. */
export async function failed(response, { signOutOn401 = true } = {}) {
  const problem = await problemOf(response);
  if (response.status === 401 && signOutOn401) {
    signOut();
    window.dispatchEvent(new CustomEvent('runs:signed-out', { detail: problem?.detail }));
  }
  return new ApiError(response.status, problem);
}

export async function getJson(path, options) {
  return (await request(path, options)).json();
}

/** Downloads a file the API serves (the token cannot ride on a plain link), under the name the server gives. */
export async function download(path, fallbackName) {
  const response = await request(path, { accept: '*/*' });
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = encoded ? decodeURIComponent(encoded[1]) : plain ? plain[1] : fallbackName;
  const address = URL.createObjectURL(await response.blob());
  const anchor = Object.assign(document.createElement('a'), { href: address, download: name });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(address), 60_000);
}
