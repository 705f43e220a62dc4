/*
 * ravelin.h: a thin layer over the generated bindings (filter.h, from
 * generate.sh) so a C plugin reads like one written with the Rust SDK:
 * headers as C strings, one-call kv counters and outbound GETs, one-line
 * logs, and decisions built in one line.
 *
 * Ownership, the one thing C makes you think about:
 * - strings passed *in* to these helpers stay yours (nothing is kept);
 * - a `rv_bytes` the helpers fill is yours to `rv_bytes_free`;
 * - a body or response given to `rv_respond` / `rv_replace_body` is copied
 *   into malloc'd memory the bindings free after the hook returns;
 * - the hook's own arguments (`config`, `body`) are the plugin's to free:
 *   `rv_string_free` / `rv_bytes_free` them before returning;
 * - borrowed handles (`req`, `resp`) are dropped by the generated code when
 *   the hook returns (generate.sh asks for `--autodrop-borrows yes`): never
 *   keep one past its hook.
 *
 * Everything the bindings offer stays available beside these helpers: the
 * `ravelin_plugin_*` functions in filter.h are the whole contract.
 */
#ifndef RAVELIN_H
#define RAVELIN_H

#include "filter.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef filter_borrow_request_t rv_request;
typedef filter_borrow_response_t rv_response;
typedef filter_list_u8_t rv_bytes;

/* --- strings and bytes ------------------------------------------------ */

/* A view of the C string `s` as a WIT string (no copy: keep `s` alive). */
filter_string_t rv_str(const char *s);
/* Frees bytes the host or a helper handed over. */
void rv_bytes_free(rv_bytes *bytes);
/* Frees a string the host handed over (such as `configure`'s argument). */
void rv_string_free(filter_string_t *s);
/* Copies `len` bytes at `data` into memory the bindings may free. */
rv_bytes rv_bytes_copy(const void *data, size_t len);

/* --- the request and the response ---------------------------------------- */

/* The request header `name` (lower case) as a NUL-terminated string in
 * `buf` (`cap` bytes); false when absent or longer than `cap - 1`. */
bool rv_request_header(rv_request req, const char *name, char *buf, size_t cap);
/* Sets the request header `name` to `value`; false (and a warning in the
 * log) when the host refuses it. */
bool rv_request_set_header(rv_request req, const char *name, const char *value);
/* Removes every request header `name`. */
void rv_request_remove_header(rv_request req, const char *name);
/* The method into `buf`, NUL-terminated; false when it does not fit. */
bool rv_request_method(rv_request req, char *buf, size_t cap);
/* The path (without the query) into `buf`, NUL-terminated; false when it
 * does not fit. */
bool rv_request_path(rv_request req, char *buf, size_t cap);
/* Asks for the request body whole, up to `max_bytes` (413 past it). */
bool rv_request_want_body_whole(rv_request req, uint64_t max_bytes);
/* Sets the response header `name` to `value`; false when refused. */
bool rv_response_set_header(rv_response resp, const char *name, const char *value);

/* --- decisions ---------------------------------------------------------- */

/* Go on to the next plugin and the upstream. */
void rv_continue(filter_decision_t *ret);
/* Answer `status` with a `text/plain` body of `len` bytes at `body`. */
void rv_respond(filter_decision_t *ret, uint16_t status, const void *body, size_t len);
/* Answer `status` with the C string `body`. */
void rv_respond_text(filter_decision_t *ret, uint16_t status, const char *body);
/* Keep a body as it is. */
void rv_body_continue(filter_body_decision_t *ret);
/* Replace a body with `len` bytes at `data` (copied). */
void rv_body_replace(filter_body_decision_t *ret, const void *data, size_t len);
/* Fail `configure` with the C string `message` (shown to the operator). */
bool rv_configure_error(filter_string_t *err, const char *message);

/* --- host services ------------------------------------------------------ */

/* Logs the C strings given, joined, at `level`
 * (RAVELIN_PLUGIN_LOG_LEVEL_*); the list ends with NULL:
 *   rv_log(RAVELIN_PLUGIN_LOG_LEVEL_INFO, "bucket=", bucket, NULL);
 * (No printf: stdio drags WASI imports into the module; see docs/c.md.) */
void rv_log(int level, ...);
#define rv_info(...) rv_log(RAVELIN_PLUGIN_LOG_LEVEL_INFO, __VA_ARGS__, (const char *)NULL)
#define rv_warn(...) rv_log(RAVELIN_PLUGIN_LOG_LEVEL_WARN, __VA_ARGS__, (const char *)NULL)

/* Joins the C strings given (the list ends with NULL) into `buf`, cut to
 * `cap - 1` bytes; returns `buf`. */
char *rv_join(char *buf, size_t cap, ...);
/* Writes `n` in decimal into `buf` (at least 21 bytes); returns `buf`. */
char *rv_i64(char *buf, int64_t n);

/* Adds `delta` to the counter `key` of kv store `store`; the new value in
 * `out`. False (and a warning in the log) when the store fails. */
bool rv_kv_increment(const char *store, const char *key, int64_t delta, int64_t *out);

/* GETs `path` on the upstream cluster `cluster` (one of the plugin's
 * `allowed_upstreams`). On success the status goes to `status` and the body
 * to `body` (free it with rv_bytes_free); false (and a warning in the log)
 * when the call fails. */
bool rv_outbound_get(const char *cluster, const char *path, uint32_t timeout_ms,
                     uint16_t *status, rv_bytes *body);

/* --- configuration ------------------------------------------------------ */

/* The string value of the top-level key `key` of the JSON object `json`
 * into `buf`, NUL-terminated; false when absent, not a string, or too long.
 * A small reader for flat configurations: no escapes beyond `\"` and `\\`. */
bool rv_json_string(const char *json, const char *key, char *buf, size_t cap);
/* The integer value of the top-level key `key`; false when absent or not
 * an integer. */
bool rv_json_int(const char *json, const char *key, int64_t *out);
/* Whether every top-level key of the JSON object `json` (or `null`) is one
 * of `allowed` (a NULL-terminated list); if not, the first other key goes
 * to `unknown`, NUL-terminated and cut to `cap - 1` bytes. */
bool rv_json_only_keys(const char *json, const char *const *allowed, char *unknown, size_t cap);

#endif
