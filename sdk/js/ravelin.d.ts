// TypeScript typings of sdk/js/ravelin.js and of the contract's types as
// componentize-js hands them to a JavaScript plugin (WIT `kebab-case`
// names become `camelCase`; `list<u8>` is a Uint8Array; `u64`/`s64` are
// bigint; `option<T>` is `T | undefined`; a `result` error is thrown).
// Written from wit/ (contract ravelin:plugin@0.2.0): keep them in step.

/** One header field: its lower-case name and its value's bytes. */
export interface Field {
  name: string;
  value: Uint8Array;
}

/** A response a hook answers with instead of going on. */
export interface ResponseInit {
  status: number;
  headers: Field[];
  body: Uint8Array;
}

/** What a request or response hook decides. */
export type Decision = { tag: 'continue' } | { tag: 'respond'; val: ResponseInit };
/** What a whole-body hook decides. */
export type BodyDecision =
  | { tag: 'continue' }
  | { tag: 'replace'; val: Uint8Array }
  | { tag: 'respond'; val: ResponseInit };
/** What a chunk hook decides. */
export type ChunkDecision =
  | { tag: 'pass' }
  | { tag: 'replace'; val: Uint8Array }
  | { tag: 'hold' }
  | { tag: 'respond'; val: ResponseInit };

/** The hooks beyond `onRequest` a plugin implements (`configure`'s answer). */
export interface Hooks {
  onResponse?: boolean;
  onLog?: boolean;
}

export type OverLimit = 'reject' | 'skip' | 'inspect-prefix';
export interface BodyLimit {
  maxBytes: bigint;
  overLimit: OverLimit;
}
export type BodyMode = { tag: 'whole'; val: BodyLimit } | { tag: 'chunked'; val: BodyLimit };

/** Facts about the client's TLS session. */
export interface TlsInfo {
  sni?: string;
  alpn?: string;
  version: string;
  cipher: string;
}

/** The request a hook borrows: valid only during the hook. */
export interface Request {
  method(): string;
  scheme(): string;
  httpVersion(): 'http10' | 'http11' | 'http2' | 'http3';
  pathWithQuery(): string;
  /** Throws the host's reason (a string) when refused. */
  setPathWithQuery(value: string): void;
  authority(): string | undefined;
  header(name: string): Uint8Array | undefined;
  headerAll(name: string): Uint8Array[];
  headers(): Field[];
  setHeader(name: string, value: Uint8Array): void;
  addHeader(name: string, value: Uint8Array): void;
  removeHeader(name: string): void;
  clientAddr(): string | undefined;
  peerAddr(): string | undefined;
  tls(): TlsInfo | undefined;
  route(): string;
  requestId(): string;
  attribute(name: string): string | undefined;
  setAttribute(name: string, value: string): void;
  trailers(): Field[];
  setTrailer(name: string, value: Uint8Array): void;
  removeTrailer(name: string): void;
  wantBody(mode: BodyMode): void;
}

/** The response a hook borrows: valid only during the hook. */
export interface Response {
  status(): number;
  setStatus(status: number): void;
  header(name: string): Uint8Array | undefined;
  headerAll(name: string): Uint8Array[];
  headers(): Field[];
  setHeader(name: string, value: Uint8Array): void;
  addHeader(name: string, value: Uint8Array): void;
  removeHeader(name: string): void;
  trailers(): Field[];
  setTrailer(name: string, value: Uint8Array): void;
  removeTrailer(name: string): void;
  wantBody(mode: BodyMode): void;
}

/** What `onLog` learns about the finished exchange. */
export interface LogInfo {
  status: number;
  requestBodyBytes: bigint;
  responseBodyBytes: bigint;
  durationUs: bigint;
  completed: boolean;
}

/**
 * The exports a plugin module provides (the `filter` world). `configure`
 * throws a string to refuse its configuration.
 */
export interface Plugin {
  configure(config: string): Hooks;
  onRequest(req: Request): Decision;
  onRequestBody(req: Request, body: Uint8Array, truncated: boolean): BodyDecision;
  onRequestChunk(req: Request, chunk: Uint8Array, end: boolean): ChunkDecision;
  onResponse(req: Request, resp: Response): Decision;
  onResponseBody(req: Request, resp: Response, body: Uint8Array, truncated: boolean): BodyDecision;
  onResponseChunk(req: Request, resp: Response, chunk: Uint8Array, end: boolean): ChunkDecision;
  onLog(req: Request, info: LogInfo): void;
}

// --- the helpers of ravelin.js ------------------------------------------

export function bytes(text: string): Uint8Array;
export function text(data: Uint8Array): string;
export const CONTINUE: Decision;
export function respond(status: number, body?: string | Uint8Array, headers?: Record<string, string>): Decision;
export const KEEP_BODY: BodyDecision;
export function replaceBody(body: string | Uint8Array): BodyDecision;
export function header(message: Request | Response, name: string): string | undefined;
export function setHeader(message: Request | Response, name: string, value: string): void;
export function path(req: Request): string;
export function wantRequestBody(req: Request, maxBytes: number): void;
export const log: {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
};
export function kvIncrement(store: string, key: string, delta?: number): number;
export function outboundGet(cluster: string, path: string, timeoutMs?: number): { status: number; body: Uint8Array };
