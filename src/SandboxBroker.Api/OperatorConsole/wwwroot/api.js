// The admin API as the console uses it: same origin, bearer token from sessionStorage, errors a person can act on.
const TOKEN_KEY = "sandbox-broker-admin-token";
const basePath = document.querySelector('meta[name="broker-base-path"]')?.content || "/v1";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer the console must show: what happened, in words, plus the problem's code and request id when there is one. */
export class ApiError extends Error {
  constructor(kind, message, { status = 0, code = "", requestId = "" } = {}) {
    super(message);
    this.kind = kind; // "auth", "forbidden", "unreachable", "conflict", "problem"
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

function query(params) {
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

/** Calls {base}/admin{path}. Resolves with the JSON body (and status); rejects with an ApiError. */
export async function admin(path, { method = "GET", params, signal } = {}) {
  const current = token.get();
  if (!current) {
    throw new ApiError("auth", "Sign in with an admin token.");
  }
  let response;
  try {
    response = await fetch(basePath + "/admin" + path + query(params), {
      method,
      headers: { Authorization: "Bearer " + current, Accept: "application/json" },
      cache: "no-store",
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("unreachable", "The broker cannot be reached. Check the network or whether the broker is running; the console keeps trying.");
  }
  const body = await response.json().catch(() => null);
  if (response.ok) {
    return { status: response.status, body };
  }
  throw problem(response, body);
}

/** The public readiness probe (no token): the CSP circuit state is one of its checks. */
export async function readiness() {
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    return await response.json();
  } catch {
    return null;
  }
}

function problem(response, body) {
  const info = { status: response.status, code: body?.code || "", requestId: body?.request_id || response.headers.get("X-Request-ID") || "" };
  switch (response.status) {
    case 401:
      return new ApiError("auth", "The admin token was refused: it is wrong, or it has been rotated or revoked. Sign in again.", info);
    case 403:
      return new ApiError("forbidden", "This token is not an admin token. Sign in with an admin token.", info);
    case 409:
      return new ApiError("conflict", body?.detail || "The sandbox is not in a state that allows this.", info);
    case 429:
      return new ApiError("problem", `Too many requests; retry in ${body?.retry_after ?? "a few"} s.`, info);
    default:
      return new ApiError("problem", body?.detail || body?.title || `The broker answered ${response.status}.`, info);
  }
}
