// The `NAME` Ravelin plugin (contract `ravelin:plugin@0.2.0`), in
// JavaScript. Build: ./build.sh (writes target/NAME.wasm). Try: ravelin
// plugin test target/NAME.wasm --request 'GET /x' --config '{"deny_prefix": "/admin"}'

import { CONTINUE, path, respond, setHeader } from './ravelin.js';

// This plugin's configuration: requests whose path starts with
// `deny_prefix` are answered with 403.
let denyPrefix;

export function configure(json) {
  denyPrefix = (JSON.parse(json) ?? {}).deny_prefix;
  // The hooks beyond onRequest this plugin implements.
  return { onResponse: true, onLog: false };
}

export function onRequest(req) {
  if (denyPrefix !== undefined && path(req).startsWith(denyPrefix)) {
    return respond(403, 'forbidden\n');
  }
  setHeader(req, 'x-plugin', 'NAME');
  return CONTINUE;
}

export function onResponse(_req, resp) {
  setHeader(resp, 'x-plugin', 'NAME');
  return CONTINUE;
}

// Hooks not listed by configure are never called, but every export of the
// world must exist.
export const onRequestBody = () => ({ tag: 'continue' });
export const onRequestChunk = () => ({ tag: 'pass' });
export const onResponseBody = () => ({ tag: 'continue' });
export const onResponseChunk = () => ({ tag: 'pass' });
export const onLog = () => {};
