// The only way the UI talks to the server: the public JSON API under /api/v1.
// The session cookie is HttpOnly; the readable cs_csrf cookie is echoed in X-CSRF-Token on writes.
const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && typeof body === 'object' && (body.detail || body.title)) || (typeof body === 'string' && body) || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.body = body && typeof body === 'object' ? body : {};
    this.detail = detail;
    this.errors = Array.isArray(this.body.errors) ? this.body.errors : [];
  }

  /** True when the server has no such endpoint at all (not "this record does not exist"). */
  get endpointMissing() {
    return this.status === 405 || (this.status === 404 && (this.detail === 'Not Found' || !this.body.detail));
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === 'cs_csrf') return decodeURIComponent(rest.join('='));
  }
  return '';
}

export async function api(path, { method = 'GET', body, query, quiet401 = false } = {}) {
  let url = BASE + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, v);
    const q = qs.toString();
    if (q) url += '?' + q;
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
  let res;
  try {
    res = await fetch(url, { method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { detail: 'network' });
  }
  let data = null;
  if (res.status !== 204) {
    const ct = res.headers.get('content-type') || '';
    data = ct.includes('json') ? await res.json().catch(() => null) : await res.text();
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !quiet401) onUnauthenticated(err);
    throw err;
  }
  return data;
}

/** Lists come either bare or as a page {items, total}; give back the items either way. */
export function items(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}
