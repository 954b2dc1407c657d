import { ApiError } from './api.js';
import { h } from './dom.js';

/** What went wrong, in the API's own words. */
export function failure(error) {
  if (error instanceof ApiError) {
    const what = error.status === 404 ? 'Not found' : error.status === 403 ? 'Not allowed' : `The server answered ${error.status}`;
    return h('div', { class: 'notice error', role: 'alert' }, h('strong', {}, `${what}: `), error.message);
  }
  return h('div', { class: 'notice error', role: 'alert' }, h('strong', {}, 'Something went wrong: '), String(error?.message ?? error));
}
