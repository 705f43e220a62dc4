// ab-router in JavaScript: the A/B router every language's example
// implements (see README.md for the behaviour and configuration), on the
// helpers of sdk/js/ravelin.js.

import {
  CONTINUE, header, kvIncrement, log, outboundGet, path, replaceBody, respond, setHeader, text,
  wantRequestBody,
} from './ravelin.js';

// The configuration, read once per plugin version in `configure` (and kept
// in the per-version snapshot every instance starts from).
let settings = { lang: 'js', split: 50, flagCluster: 'flags', flagPath: '/flag' };
// The bucket of the exchange this instance serves.
let bucket = 'a';

export function configure(json) {
  const given = JSON.parse(json) ?? {};
  settings = {
    lang: given.lang ?? 'js',
    split: given.split ?? 50,
    flagCluster: given.flag_cluster ?? 'flags',
    flagPath: given.flag_path ?? '/flag',
  };
  if (!Number.isInteger(settings.split) || settings.split < 0 || settings.split > 100) {
    throw 'ab-router: `split` must be 0 to 100 (percent to bucket a)';
  }
  return { onResponse: true, onLog: false };
}

// The bucket the client asked for, or the next one from the kv counter.
function chooseBucket(req) {
  const asked = header(req, 'x-ab-bucket');
  if (asked === 'a' || asked === 'b') {
    return asked;
  }
  const assigned = kvIncrement('ab', 'assigned');
  return ((assigned - 1) % 100) * settings.split / 50 % 2 === 0 ? 'a' : 'b';
}

// `GET /ab/flag`: answers `flag:` and the flag service's body.
function flag() {
  try {
    const { body } = outboundGet(settings.flagCluster, settings.flagPath);
    return respond(200, `flag:${text(body)}`);
  } catch (e) {
    log.warn(`outbound GET ${settings.flagPath}: ${e?.payload ?? e}`);
    return respond(502, 'flag unavailable');
  }
}

export function onRequest(req) {
  if (header(req, 'x-ab-trap') === '1') {
    throw new Error('ab-router: trap asked for by x-ab-trap');
  }
  const method = req.method();
  const where = path(req);
  bucket = chooseBucket(req);
  log.info(`ab bucket=${bucket} path=${where}`);
  if (header(req, 'x-ab-block') === '1') {
    return respond(403, 'blocked');
  }
  if (method === 'GET' && where === '/ab/health') {
    return respond(200, `ok from ${settings.lang}`);
  }
  if (method === 'GET' && where === '/ab/visits') {
    return respond(200, String(kvIncrement('ab', 'visits')));
  }
  if (method === 'GET' && where === '/ab/flag') {
    return flag();
  }
  if (method === 'POST' && where === '/ab/upper') {
    wantRequestBody(req, 1 << 20);
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
