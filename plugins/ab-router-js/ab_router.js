// ab-router in JavaScript: the A/B router every language's example
// implements (the spec and configuration: plugins/ab-router/src/lib.rs), on the
// helpers of sdk/js/ravelin.js.

import {
  CONTINUE, header, kvIncrement, log, outboundGet, path, replaceBody, respond, setHeader, text,
  wantRequestBody,
} from './ravelin.js';

// The configuration, read once per plugin version in `configure` (and kept
// in the per-version snapshot every instance starts from).
let settings = { lang: 'js', split: 50, flagUpstream: undefined };
// The bucket of the exchange this instance serves.
let bucket = 'a';

export function configure(json) {
  const given = JSON.parse(json) ?? {};
  const unknown = Object.keys(given).filter((key) => !['lang', 'split', 'flag_upstream'].includes(key));
  if (unknown.length > 0) {
    throw `invalid plugin config: unknown field \`${unknown[0]}\`, expected lang, split or flag_upstream`;
  }
  if (typeof given.lang !== 'string') {
    throw 'invalid plugin config: `lang` (a string) is required';
  }
  settings = { lang: given.lang, split: given.split ?? 50, flagUpstream: given.flag_upstream };
  if (!Number.isInteger(settings.split) || settings.split < 0 || settings.split > 100) {
    throw `invalid plugin config: split must be 0 to 100, got ${settings.split}`;
  }
  return { onResponse: true, onLog: false };
}

// The bucket the client asked for, or the next one from the kv counter
// (its new value n picks a when n * split % 100 < split).
function chooseBucket(req) {
  const asked = header(req, 'x-ab-bucket');
  if (asked === 'a' || asked === 'b') {
    return asked;
  }
  const n = kvIncrement('ab', 'assigned');
  return (n * settings.split) % 100 < settings.split ? 'a' : 'b';
}

// `GET /ab/visits`: counts the call in kv and answers the count.
function visits() {
  try {
    return respond(200, String(kvIncrement('ab', 'visits')));
  } catch (e) {
    return respond(503, `kv: ${e?.payload?.tag ?? e}`);
  }
}

// `GET /ab/flag`: answers `flag:` and the flag service's body.
function flag() {
  if (settings.flagUpstream === undefined) {
    return respond(502, 'flag unavailable');
  }
  try {
    const { status, body } = outboundGet(settings.flagUpstream, '/flag');
    if (status >= 200 && status < 300) {
      return respond(200, `flag:${text(body)}`);
    }
    log.warn(`flag service answered ${status}`);
  } catch (e) {
    log.warn(`flag service: ${e?.payload ?? e}`);
  }
  return respond(502, 'flag unavailable');
}

export function onRequest(req) {
  if (header(req, 'x-ab-trap') === '1') {
    throw new Error('ab-router: trap asked for by x-ab-trap');
  }
  if (header(req, 'x-ab-block') === '1') {
    return respond(403, 'blocked');
  }
  try {
    bucket = chooseBucket(req);
  } catch (e) {
    return respond(503, `kv: ${e?.payload?.tag ?? e}`);
  }
  const method = req.method();
  const where = path(req);
  log.info(`ab bucket=${bucket} path=${where}`);
  if (method === 'GET' && where === '/ab/health') {
    return respond(200, `ok from ${settings.lang}`);
  }
  if (method === 'GET' && where === '/ab/visits') {
    return visits();
  }
  if (method === 'GET' && where === '/ab/flag') {
    return flag();
  }
  if (method === 'POST' && where === '/ab/upper') {
    wantRequestBody(req, 64 * 1024);
  }
  setHeader(req, 'x-ab-bucket', bucket);
  req.removeHeader('x-debug');
  return CONTINUE;
}

export function onRequestBody(_req, body, _truncated) {
  return replaceBody(body.map((b) => (b >= 0x61 && b <= 0x7a ? b - 0x20 : b)));
}

export function onResponse(_req, resp) {
  setHeader(resp, 'x-ab-lang', settings.lang);
  setHeader(resp, 'x-ab-bucket', bucket);
  return CONTINUE;
}

// Hooks this plugin does not ask for: never called, but every export of
// the world must exist.
export const onRequestChunk = () => ({ tag: 'pass' });
export const onResponseBody = () => ({ tag: 'continue' });
export const onResponseChunk = () => ({ tag: 'pass' });
export const onLog = () => {};
