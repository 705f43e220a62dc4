/*
 * The `NAME` Ravelin plugin (contract `ravelin:plugin@0.2.0`), in C.
 * Build: ./build.sh (writes target/NAME.wasm). Try: ravelin plugin test
 * target/NAME.wasm --request 'GET /x' --config '{"deny_prefix": "/admin"}'
 */
#include "ravelin.h"

#include <string.h>

/* This plugin's configuration: requests whose path starts with
 * `deny_prefix` are answered with 403 (empty: none). */
static char deny_prefix[256];

bool exports_filter_configure(filter_string_t *json, filter_hooks_t *ret, filter_string_t *err) {
  char text[4096];
  if (json->len >= sizeof text) {
    rv_string_free(json);
    return rv_configure_error(err, "NAME: the configuration is larger than 4 KiB");
  }
  memcpy(text, json->ptr, json->len);
  text[json->len] = '\0';
  rv_string_free(json);
  deny_prefix[0] = '\0';
  rv_json_string(text, "deny_prefix", deny_prefix, sizeof deny_prefix);
  /* The hooks beyond on-request this plugin implements. */
  *ret = RAVELIN_PLUGIN_TYPES_HOOKS_ON_RESPONSE;
  return true;
}

void exports_filter_on_request(filter_borrow_request_t req, filter_decision_t *ret) {
  char path[1024];
  if (deny_prefix[0] != '\0' && rv_request_path(req, path, sizeof path) &&
      strncmp(path, deny_prefix, strlen(deny_prefix)) == 0) {
    rv_respond_text(ret, 403, "forbidden\n");
    return;
  }
  rv_request_set_header(req, "x-plugin", "NAME");
  rv_continue(ret);
}

void exports_filter_on_response(filter_borrow_request_t req, filter_borrow_response_t resp,
                                filter_decision_t *ret) {
  (void)req;
  rv_response_set_header(resp, "x-plugin", "NAME");
  rv_continue(ret);
}

/* Hooks not listed by configure are never called, but every export of the
 * world must exist. Arguments the host hands over are the plugin's to free. */
void exports_filter_on_request_body(filter_borrow_request_t req, filter_list_u8_t *body,
                                    bool truncated, filter_body_decision_t *ret) {
  (void)req;
  (void)truncated;
  rv_bytes_free(body);
  rv_body_continue(ret);
}

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
