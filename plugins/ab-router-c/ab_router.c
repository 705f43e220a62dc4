/*
 * ab-router in C: the A/B router every language's example implements (the
 * spec and configuration: plugins/ab-router/src/lib.rs), on the helpers of
 * sdk/c/ravelin.h.
 */
#include "ravelin.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The configuration, read once per plugin version in `configure`. */
static struct {
  char lang[32];
  int64_t split;
  /* The upstream cluster `/ab/flag` asks; empty: none. */
  char flag_upstream[64];
} config;

/* The bucket of the exchange this instance serves ("a" or "b"). */
static const char *bucket = "a";

/* The configuration's keys. */
static const char *const KEYS[] = {"lang", "split", "flag_upstream", NULL};

/* Reads the configuration `text` into `config`; NULL or why it is wrong
 * (in `why`). */
static const char *read_config(const char *text, char *why, size_t cap) {
  char unknown[64];
  if (!rv_json_only_keys(text, KEYS, unknown, sizeof unknown)) {
    return rv_join(why, cap, "invalid plugin config: unknown field `", unknown,
                   "`, expected lang, split or flag_upstream", NULL);
  }
  if (!rv_json_string(text, "lang", config.lang, sizeof config.lang)) {
    return "invalid plugin config: `lang` (a string of at most 31 bytes) is required";
  }
  config.split = 50;
  rv_json_int(text, "split", &config.split);
  if (config.split < 0 || config.split > 100) {
    char got[24];
    return rv_join(why, cap, "invalid plugin config: split must be 0 to 100, got ",
                   rv_i64(got, config.split), NULL);
  }
  config.flag_upstream[0] = '\0';
  rv_json_string(text, "flag_upstream", config.flag_upstream, sizeof config.flag_upstream);
  return NULL;
}

bool exports_filter_configure(filter_string_t *json, filter_hooks_t *ret, filter_string_t *err) {
  char *text = strndup((const char *)json->ptr, json->len);
  rv_string_free(json);
  if (text == NULL) {
    return rv_configure_error(err, "ab-router: out of memory");
  }
  char why[160];
  const char *wrong = read_config(text, why, sizeof why);
  free(text);
  if (wrong != NULL) {
    return rv_configure_error(err, wrong);
  }
  *ret = RAVELIN_PLUGIN_TYPES_HOOKS_ON_RESPONSE;
  return true;
}

/* The bucket the client asked for, or the next one from the kv counter
 * (its new value n picks a when n * split % 100 < split); NULL when kv
 * fails. */
static const char *choose_bucket(rv_request req) {
  char asked[8];
  if (rv_request_header(req, "x-ab-bucket", asked, sizeof asked) &&
      (strcmp(asked, "a") == 0 || strcmp(asked, "b") == 0)) {
    return asked[0] == 'a' ? "a" : "b";
  }
  int64_t n;
  if (!rv_kv_increment("ab", "assigned", 1, &n)) {
    return NULL;
  }
  return n * config.split % 100 < config.split ? "a" : "b";
}

/* `GET /ab/visits`: counts the call in kv and answers the count. */
static void visits(filter_decision_t *ret) {
  int64_t count;
  if (!rv_kv_increment("ab", "visits", 1, &count)) {
    rv_respond_text(ret, 503, "kv unavailable");
    return;
  }
  char body[24];
  rv_respond_text(ret, 200, rv_i64(body, count));
}

/* `GET /ab/flag`: answers `flag:` and the flag service's body. */
static void flag(filter_decision_t *ret) {
  uint16_t status;
  rv_bytes body;
  if (config.flag_upstream[0] == '\0' ||
      !rv_outbound_get(config.flag_upstream, "/flag", 2000, &status, &body)) {
    rv_respond_text(ret, 502, "flag unavailable");
    return;
  }
  if (status < 200 || status > 299) {
    char code[24];
    rv_warn("flag service answered ", rv_i64(code, status));
    rv_bytes_free(&body);
    rv_respond_text(ret, 502, "flag unavailable");
    return;
  }
  size_t len = 5 + body.len;
  char *answer = malloc(len);
  if (answer == NULL) {
    __builtin_trap();
  }
  memcpy(answer, "flag:", 5);
  if (body.len > 0) {
    memcpy(answer + 5, body.ptr, body.len);
  }
  rv_bytes_free(&body);
  rv_respond(ret, 200, answer, len);
  free(answer);
}

void exports_filter_on_request(filter_borrow_request_t req, filter_decision_t *ret) {
  char value[8], method[16], path[512];
  if (rv_request_header(req, "x-ab-trap", value, sizeof value) && strcmp(value, "1") == 0) {
    __builtin_trap();
  }
  if (rv_request_header(req, "x-ab-block", value, sizeof value) && strcmp(value, "1") == 0) {
    rv_respond_text(ret, 403, "blocked");
    return;
  }
  const char *chosen = choose_bucket(req);
  if (chosen == NULL) {
    rv_respond_text(ret, 503, "kv unavailable");
    return;
  }
  bucket = chosen;
  rv_request_method(req, method, sizeof method);
  if (!rv_request_path(req, path, sizeof path)) {
    strcpy(path, "(too long)");
  }
  rv_info("ab bucket=", bucket, " path=", path);
  bool get = strcmp(method, "GET") == 0;
  if (get && strcmp(path, "/ab/health") == 0) {
    char body[64];
    rv_respond_text(ret, 200, rv_join(body, sizeof body, "ok from ", config.lang, NULL));
    return;
  }
  if (get && strcmp(path, "/ab/visits") == 0) {
    visits(ret);
    return;
  }
  if (get && strcmp(path, "/ab/flag") == 0) {
    flag(ret);
    return;
  }
  if (strcmp(method, "POST") == 0 && strcmp(path, "/ab/upper") == 0) {
    rv_request_want_body_whole(req, 64 * 1024);
  }
  rv_request_set_header(req, "x-ab-bucket", bucket);
  rv_request_remove_header(req, "x-debug");
  rv_continue(ret);
}

void exports_filter_on_request_body(filter_borrow_request_t req, filter_list_u8_t *body,
                                    bool truncated, filter_body_decision_t *ret) {
  (void)req;
  (void)truncated;
  for (size_t i = 0; i < body->len; i++) {
    body->ptr[i] = (uint8_t)toupper(body->ptr[i]);
  }
  /* The body is already ours: hand it back instead of copying it. */
  ret->tag = RAVELIN_PLUGIN_TYPES_BODY_DECISION_REPLACE;
  ret->val.replace = *body;
}

void exports_filter_on_response(filter_borrow_request_t req, filter_borrow_response_t resp,
                                filter_decision_t *ret) {
  (void)req;
  rv_response_set_header(resp, "x-ab-lang", config.lang);
  rv_response_set_header(resp, "x-ab-bucket", bucket);
  rv_continue(ret);
}

/* Hooks this plugin does not ask for: never called, but every export of
 * the world must exist. */
void exports_filter_on_request_chunk(filter_borrow_request_t req, filter_list_u8_t *chunk,
                                     bool end, filter_chunk_decision_t *ret) {
  (void)req;
  (void)end;
  rv_bytes_free(chunk);
  ret->tag = RAVELIN_PLUGIN_TYPES_CHUNK_DECISION_PASS;
}

void exports_filter_on_response_body(filter_borrow_request_t req, filter_borrow_response_t resp,
                                     filter_list_u8_t *body, bool truncated,
                                     filter_body_decision_t *ret) {
  (void)req;
  (void)resp;
  (void)truncated;
  rv_bytes_free(body);
  rv_body_continue(ret);
}

void exports_filter_on_response_chunk(filter_borrow_request_t req, filter_borrow_response_t resp,
                                      filter_list_u8_t *chunk, bool end,
                                      filter_chunk_decision_t *ret) {
  (void)req;
  (void)resp;
  (void)end;
  rv_bytes_free(chunk);
  ret->tag = RAVELIN_PLUGIN_TYPES_CHUNK_DECISION_PASS;
}

void exports_filter_on_log(filter_borrow_request_t req, filter_log_info_t *info) {
  (void)req;
  (void)info;
}
