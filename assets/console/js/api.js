// HTTP client for /api/v1: access token in memory, refresh token in localStorage,
// one refresh (single flight) and one retry on a 401, the contract's error shape as ApiError.

const REFRESH_KEY = "hb.refresh";
const listeners = new Set();
export const session = {access: null, user: null};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "error");
    this.fields = e.fields || {};
    this.requestId = body && body.requestId;
  }
}

export function onSession(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function changed() { for (const fn of listeners) fn(session.user); }

export function idemKey() {
  return (crypto.randomUUID && crypto.randomUUID()) ||
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function storeTokens(data) {
  session.access = data.accessToken;
  if (data.user) session.user = data.user;
  try { localStorage.setItem(REFRESH_KEY, data.refreshToken); } catch { /* private mode */ }
}

export function clearSession() {
  session.access = null;
  session.user = null;
  try { localStorage.removeItem(REFRESH_KEY); } catch { /* ignore */ }
  changed();
}

let refreshing = null;
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      let token = null;
      try { token = localStorage.getItem(REFRESH_KEY); } catch { /* ignore */ }
      if (!token) return false;
      const r = await raw("POST", "/auth/refresh", {body: {refreshToken: token}, auth: false});
      if (!r.ok) {
        if (r.status === 401 || r.status === 403) clearSession();
        return false;
      }
      storeTokens(r.data);
      return true;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function raw(method, path, {body, auth = true, idem, query, text} = {}) {
  let url = /^\/(api\/|metrics$|readyz$|healthz$)/.test(path) ? path : `/api/v1${path}`;
  if (query) {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== null && v !== undefined));
    if ([...q].length) url += `?${q}`;
  }
  const headers = {Accept: "application/json"};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && session.access) headers.Authorization = `Bearer ${session.access}`;
  if (idem) headers["Idempotency-Key"] = idem;
  let res;
  try {
    res = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    return {ok: false, status: 0, data: {error: {code: "network", message: String(e.message || e)}}};
  }
  let data = null;
  if (text) data = await res.text();
  else if (res.status !== 204) {
    try { data = await res.json(); } catch { data = null; }
  }
  return {ok: res.ok, status: res.status, data, headers: res.headers};
}

// api("GET", "/wallet") -> parsed JSON, or throws ApiError.
export async function api(method, path, opts = {}) {
  let r = await raw(method, path, opts);
  if (r.status === 401 && opts.auth !== false && await refresh()) r = await raw(method, path, opts);
  if (!r.ok) throw new ApiError(r.status, r.data);
  return r.data;
}

// Like api() but a 404/405 (route not there yet on this appliance) returns `missing` instead of throwing.
export async function optional(method, path, opts = {}, missing = null) {
  try {
    return await api(method, path, opts);
  } catch (e) {
    if (e.status === 404 && e.code === "not_found" && e.message === "no such route") return missing;
    if (e.status === 405) return missing;
    throw e;
  }
}

export async function login(email, password) {
  const data = await api("POST", "/auth/login", {body: {email, password}, auth: false});
  storeTokens(data);
  await loadMe();
  return session.user;
}

export async function register(fields) {
  const data = await api("POST", "/auth/register", {body: fields, auth: false});
  storeTokens(data);
  changed();
  return session.user;
}

export async function logout() {
  try { if (session.access) await raw("POST", "/auth/logout"); } finally { clearSession(); }
}

export async function loadMe() {
  session.user = await api("GET", "/me");
  changed();
  return session.user;
}

// On page load: a stored refresh token gives a new pair without asking for the password.
export async function restore() {
  if (await refresh()) {
    try { await loadMe(); return session.user; } catch { clearSession(); }
  }
  return null;
}

export function hasRole(...roles) {
  const r = session.user && session.user.role;
  return !!r && (roles.includes(r) || r === "admin");
}
