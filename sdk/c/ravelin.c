/*
 * ravelin.c: the helpers declared in ravelin.h, each a few calls of the
 * generated bindings. Host strings and lists come back in malloc'd memory
 * the helpers free before returning; see ravelin.h for who owns what.
 */
#include "ravelin.h"

#include <stdlib.h>
#include <string.h>

filter_string_t rv_str(const char *s) {
  return (filter_string_t){(uint8_t *)s, strlen(s)};
}

void rv_bytes_free(rv_bytes *bytes) { filter_list_u8_free(bytes); }

void rv_string_free(filter_string_t *s) { filter_string_free(s); }

rv_bytes rv_bytes_copy(const void *data, size_t len) {
  rv_bytes out = {NULL, 0};
  if (len == 0) {
    return out;
  }
  out.ptr = malloc(len);
  if (out.ptr == NULL) {
    __builtin_trap();
  }
  memcpy(out.ptr, data, len);
  out.len = len;
  return out;
}

/* Copies `len` bytes into `buf` as a C string if they fit. */
static bool to_cstr(const uint8_t *data, size_t len, char *buf, size_t cap) {
  if (len + 1 > cap) {
    return false;
  }
  memcpy(buf, data, len);
  buf[len] = '\0';
  return true;
}

bool rv_request_header(rv_request req, const char *name, char *buf, size_t cap) {
  filter_string_t n = rv_str(name);
  rv_bytes value;
  if (!ravelin_plugin_types_method_request_header(req, &n, &value)) {
    return false;
  }
  bool fits = to_cstr(value.ptr, value.len, buf, cap);
  rv_bytes_free(&value);
  return fits;
}

/* Logs a host refusal `err` of setting header `name`, and frees it. */
static bool refused(const char *what, const char *name, filter_string_t *err) {
  char reason[256];
  size_t len = err->len < sizeof reason ? err->len : sizeof reason - 1;
  memcpy(reason, err->ptr, len);
  reason[len] = '\0';
  rv_warn(what, " ", name, ": ", reason);
  filter_string_free(err);
  return false;
}

bool rv_request_set_header(rv_request req, const char *name, const char *value) {
  filter_string_t n = rv_str(name);
  rv_bytes v = {(uint8_t *)value, strlen(value)};
  filter_string_t err;
  if (!ravelin_plugin_types_method_request_set_header(req, &n, &v, &err)) {
    return refused("setting request header", name, &err);
  }
  return true;
}

void rv_request_remove_header(rv_request req, const char *name) {
  filter_string_t n = rv_str(name);
  ravelin_plugin_types_method_request_remove_header(req, &n);
}

bool rv_request_method(rv_request req, char *buf, size_t cap) {
  filter_string_t method;
  ravelin_plugin_types_method_request_method(req, &method);
  bool fits = to_cstr(method.ptr, method.len, buf, cap);
  filter_string_free(&method);
  return fits;
}

bool rv_request_path(rv_request req, char *buf, size_t cap) {
  filter_string_t pq;
  ravelin_plugin_types_method_request_path_with_query(req, &pq);
  const uint8_t *query = memchr(pq.ptr, '?', pq.len);
  size_t len = query ? (size_t)(query - pq.ptr) : pq.len;
  bool fits = to_cstr(pq.ptr, len, buf, cap);
  filter_string_free(&pq);
  return fits;
}

bool rv_request_want_body_whole(rv_request req, uint64_t max_bytes) {
  ravelin_plugin_types_body_mode_t mode = {
      .tag = RAVELIN_PLUGIN_TYPES_BODY_MODE_WHOLE,
      .val.whole = {.max_bytes = max_bytes,
                    .over_limit = RAVELIN_PLUGIN_TYPES_OVER_LIMIT_REJECT},
  };
  filter_string_t err;
  if (!ravelin_plugin_types_method_request_want_body(req, &mode, &err)) {
    return refused("asking for the request body", "whole", &err);
  }
  return true;
}

bool rv_response_set_header(rv_response resp, const char *name, const char *value) {
  filter_string_t n = rv_str(name);
  rv_bytes v = {(uint8_t *)value, strlen(value)};
  filter_string_t err;
  if (!ravelin_plugin_types_method_response_set_header(resp, &n, &v, &err)) {
    return refused("setting response header", name, &err);
  }
  return true;
}

void rv_continue(filter_decision_t *ret) {
  ret->tag = RAVELIN_PLUGIN_TYPES_DECISION_CONTINUE;
}

/* A response of `status` with a text/plain body copied from `body`. */
static ravelin_plugin_types_response_init_t response(uint16_t status, const void *body,
                                                     size_t len) {
  static const char content_type[] = "text/plain; charset=utf-8";
  ravelin_plugin_types_field_t *field = malloc(sizeof *field);
  if (field == NULL) {
    __builtin_trap();
  }
  filter_string_dup(&field->name, "content-type");
  field->value = rv_bytes_copy(content_type, sizeof content_type - 1);
  return (ravelin_plugin_types_response_init_t){
      .status = status,
      .headers = {field, 1},
      .body = rv_bytes_copy(body, len),
  };
}

void rv_respond(filter_decision_t *ret, uint16_t status, const void *body, size_t len) {
  ret->tag = RAVELIN_PLUGIN_TYPES_DECISION_RESPOND;
  ret->val.respond = response(status, body, len);
}

void rv_respond_text(filter_decision_t *ret, uint16_t status, const char *body) {
  rv_respond(ret, status, body, strlen(body));
}

void rv_body_continue(filter_body_decision_t *ret) {
  ret->tag = RAVELIN_PLUGIN_TYPES_BODY_DECISION_CONTINUE;
}

void rv_body_replace(filter_body_decision_t *ret, const void *data, size_t len) {
  ret->tag = RAVELIN_PLUGIN_TYPES_BODY_DECISION_REPLACE;
  ret->val.replace = rv_bytes_copy(data, len);
}

bool rv_configure_error(filter_string_t *err, const char *message) {
  filter_string_dup(err, message);
  return false;
}

/* Appends the strings of `parts` (up to NULL) to `buf`, cut to `cap - 1`. */
static void join(char *buf, size_t cap, va_list parts) {
  size_t n = 0;
  for (const char *part = va_arg(parts, const char *); part != NULL;
       part = va_arg(parts, const char *)) {
    size_t len = strlen(part);
    if (len > cap - 1 - n) {
      len = cap - 1 - n;
    }
    memcpy(buf + n, part, len);
    n += len;
  }
  buf[n] = '\0';
}

char *rv_join(char *buf, size_t cap, ...) {
  va_list parts;
  va_start(parts, cap);
  join(buf, cap, parts);
  va_end(parts);
  return buf;
}

char *rv_i64(char *buf, int64_t n) {
  char digits[21];
  size_t len = 0;
  uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
  do {
    digits[len++] = (char)('0' + u % 10);
    u /= 10;
  } while (u > 0);
  size_t i = 0;
  if (n < 0) {
    buf[i++] = '-';
  }
  while (len > 0) {
    buf[i++] = digits[--len];
  }
  buf[i] = '\0';
  return buf;
}

void rv_log(int level, ...) {
  char line[1024];
  va_list parts;
  va_start(parts, level);
  join(line, sizeof line, parts);
  va_end(parts);
  filter_string_t message = rv_str(line);
  ravelin_plugin_log_log((ravelin_plugin_log_level_t)level, &message);
}

/* A kv error as text, for the log. */
static const char *kv_error(const ravelin_plugin_kv_kv_error_t *err) {
  switch (err->tag) {
  case RAVELIN_PLUGIN_KV_KV_ERROR_UNAVAILABLE:
    return "unavailable";
  case RAVELIN_PLUGIN_KV_KV_ERROR_TOO_LARGE:
    return "too large";
  case RAVELIN_PLUGIN_KV_KV_ERROR_NOT_A_COUNTER:
    return "not a counter";
  default:
    return "invalid store name";
  }
}

bool rv_kv_increment(const char *store, const char *key, int64_t delta, int64_t *out) {
  filter_string_t name = rv_str(store);
  ravelin_plugin_kv_own_store_t handle;
  ravelin_plugin_kv_kv_error_t err;
  if (!ravelin_plugin_kv_static_store_open(&name, &handle, &err)) {
    rv_warn("kv: opening store ", store, ": ", kv_error(&err));
    ravelin_plugin_kv_kv_error_free(&err);
    return false;
  }
  filter_string_t k = rv_str(key);
  bool ok = ravelin_plugin_kv_method_store_increment(ravelin_plugin_kv_borrow_store(handle), &k,
                                                      delta, NULL, out, &err);
  if (!ok) {
    rv_warn("kv: incrementing ", key, " in ", store, ": ", kv_error(&err));
    ravelin_plugin_kv_kv_error_free(&err);
  }
  ravelin_plugin_kv_store_drop_own(handle);
  return ok;
}

bool rv_outbound_get(const char *cluster, const char *path, uint32_t timeout_ms,
                     uint16_t *status, rv_bytes *body) {
  filter_string_t c = rv_str(cluster);
  ravelin_plugin_outbound_outbound_request_t request = {
      .method = rv_str("GET"),
      .path_with_query = rv_str(path),
      .headers = {NULL, 0},
      .body = {NULL, 0},
  };
  ravelin_plugin_outbound_outbound_response_t response;
  filter_string_t err;
  if (!ravelin_plugin_outbound_send(&c, &request, timeout_ms, &response, &err)) {
    refused("outbound GET", path, &err);
    return false;
  }
  *status = response.status;
  *body = response.body;
  response.body = (rv_bytes){NULL, 0};
  ravelin_plugin_outbound_outbound_response_free(&response);
  return true;
}

/* Where the value of top-level key `key` starts in `json`, or NULL. */
static const char *json_value(const char *json, const char *key) {
  size_t klen = strlen(key);
  for (const char *p = strchr(json, '"'); p != NULL; p = strchr(p + 1, '"')) {
    if (strncmp(p + 1, key, klen) != 0 || p[klen + 1] != '"') {
      continue;
    }
    const char *v = p + klen + 2;
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
      v++;
    }
    if (*v != ':') {
      continue;
    }
    v++;
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
      v++;
    }
    return v;
  }
  return NULL;
}

bool rv_json_string(const char *json, const char *key, char *buf, size_t cap) {
  const char *v = json_value(json, key);
  if (v == NULL || *v != '"') {
    return false;
  }
  size_t n = 0;
  for (v++; *v != '"'; v++) {
    if (*v == '\0' || n + 1 >= cap) {
      return false;
    }
    if (*v == '\\') {
      v++;
      if (*v != '"' && *v != '\\') {
        return false;
      }
    }
    buf[n++] = *v;
  }
  buf[n] = '\0';
  return true;
}

bool rv_json_int(const char *json, const char *key, int64_t *out) {
  const char *v = json_value(json, key);
  if (v == NULL) {
    return false;
  }
  char *end;
  long long n = strtoll(v, &end, 10);
  if (end == v) {
    return false;
  }
  *out = n;
  return true;
}

/* Past the spaces at `p`. */
static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
    p++;
  }
  return p;
}

/* Past the JSON string whose opening quote is at `p`, or NULL. */
static const char *skip_string(const char *p) {
  for (p++; *p != '"'; p++) {
    if (*p == '\0' || (*p == '\\' && *++p == '\0')) {
      return NULL;
    }
  }
  return p + 1;
}

/* The `,` or `}` ending the object member value at `p`, or NULL. */
static const char *skip_value(const char *p) {
  int depth = 0;
  for (;;) {
    if (*p == '"') {
      if ((p = skip_string(p)) == NULL) {
        return NULL;
      }
      continue;
    }
    if (*p == '\0') {
      return NULL;
    }
    if (*p == '{' || *p == '[') {
      depth++;
    } else if (*p == '}' || *p == ']') {
      if (depth == 0) {
        return p;
      }
      depth--;
    } else if (*p == ',' && depth == 0) {
      return p;
    }
    p++;
  }
}

bool rv_json_only_keys(const char *json, const char *const *allowed, char *unknown, size_t cap) {
  const char *p = skip_space(json);
  if (*p != '{') {
    return true; /* `null`: no keys */
  }
  for (p = skip_space(p + 1); *p == '"';) {
    const char *end = skip_string(p);
    if (end == NULL) {
      return true;
    }
    size_t len = (size_t)(end - p) - 2;
    bool known = false;
    for (const char *const *key = allowed; *key != NULL && !known; key++) {
      known = strlen(*key) == len && strncmp(*key, p + 1, len) == 0;
    }
    if (!known) {
      size_t n = len < cap - 1 ? len : cap - 1;
      memcpy(unknown, p + 1, n);
      unknown[n] = '\0';
      return false;
    }
    p = skip_space(end);
    if (*p != ':' || (p = skip_value(skip_space(p + 1))) == NULL || *p != ',') {
      return true;
    }
    p = skip_space(p + 1);
  }
  return true;
}
