// ravelin.js: a thin layer over the contract's imports (`ravelin:plugin/*`,
// as componentize-js exposes them) so a JavaScript plugin reads like one
// written with the Rust SDK: headers as strings, decisions in one call,
// one-call kv counters and outbound GETs, and logs.
//
// A plugin exports the world's hooks as ES module functions (`configure`,
// `onRequest`, `onRequestBody`, `onResponse`, ...); build.sh copies this
// file beside the plugin's source so `import ... from './ravelin.js'`
// resolves when componentize-js loads the program. Types: ravelin.d.ts.

import { log as hostLog } from 'ravelin:plugin/log@0.2.0';
import { Store } from 'ravelin:plugin/kv@0.2.0';
import { send } from 'ravelin:plugin/outbound@0.2.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of a string (UTF-8). */
export const bytes = (text) => encoder.encode(text);
/** A string of bytes (UTF-8, invalid sequences replaced). */
export const text = (data) => decoder.decode(data);

/** Go on: the next plugin runs, then the upstream (or the client). */
export const CONTINUE = Object.freeze({ tag: 'continue' });

/**
 * Stop here and answer `status` with `body` (a string or bytes), as
 * `text/plain` unless `headers` says otherwise.
 */
export function respond(status, body = '', headers = { 'content-type': 'text/plain; charset=utf-8' }) {
  return {
    tag: 'respond',
    val: {
      status,
      headers: Object.entries(headers).map(([name, value]) => ({ name, value: bytes(value) })),
      body: typeof body === 'string' ? bytes(body) : body,
    },
  };
}

/** Whole-body hooks: keep the body. */
export const KEEP_BODY = Object.freeze({ tag: 'continue' });
/** Whole-body hooks: replace the body with `body` (a string or bytes). */
export const replaceBody = (body) => ({
  tag: 'replace',
  val: typeof body === 'string' ? bytes(body) : body,
});

/** The header `name` of a request or response as a string, or undefined. */
export function header(message, name) {
  const value = message.header(name);
  return value === undefined ? undefined : text(value);
}

/** Sets the header `name` of a request or response to the string `value`. */
export function setHeader(message, name, value) {
  message.setHeader(name, bytes(value));
}

/** The request's path, without the query. */
export function path(req) {
  const target = req.pathWithQuery();
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/** Asks for the request body in one call of `onRequestBody`, up to `maxBytes` (413 past it). */
export function wantRequestBody(req, maxBytes) {
  req.wantBody({ tag: 'whole', val: { maxBytes: BigInt(maxBytes), overLimit: 'reject' } });
}

/** Log lines into the proxy's log, tagged with the plugin and request. */
export const log = {
  trace: (message) => hostLog('trace', message),
  debug: (message) => hostLog('debug', message),
  info: (message) => hostLog('info', message),
  warn: (message) => hostLog('warn', message),
  error: (message) => hostLog('error', message),
};

/**
 * Adds `delta` to the counter `key` of kv store `store` and returns the new
 * value as a number; throws (the hook traps, its failure policy decides)
 * when the store fails.
 */
export function kvIncrement(store, key, delta = 1) {
  const handle = Store.open(store);
  try {
    return Number(handle.increment(key, BigInt(delta), undefined));
  } finally {
    // Drop the handle now, not when the garbage collector finds it.
    handle[Symbol.dispose]();
  }
}

/**
 * GETs `path` on the upstream cluster `cluster` (one of the plugin's
 * `allowed_upstreams`): `{ status, body }` with the body as bytes; throws
 * when the call fails.
 */
export function outboundGet(cluster, path, timeoutMs = 2000) {
  const response = send(cluster, { method: 'GET', pathWithQuery: path, headers: [], body: new Uint8Array() }, timeoutMs);
  return { status: response.status, body: response.body };
}
