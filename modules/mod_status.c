/*
 * mod_status.c -- the `status` handler: uptime, requests answered, body
 * bytes sent and live connections per ConnState, read from the core's
 * counters and rendered as plain text, JSON (?format=json) or the
 * Prometheus text exposition format 0.0.4 (?format=prometheus).
 */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "weft.h"

/* Far more than the largest page (the Prometheus one, under 1 KiB): the
 * page is built on the stack and written once, no allocation at all. */
#define STATUS_PAGE_MAX 2048

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_JSON "application/json"
#define CT_PROMETHEUS "text/plain; version=0.0.4"

/* The states a live connection can be in, in Go's ConnState order
 * (closed connections are not live, so not counted). */
static const weft_conn_state_t live_states[] = {
    WEFT_STATE_NEW,
    WEFT_STATE_ACTIVE,
    WEFT_STATE_IDLE,
    WEFT_STATE_HIJACKED,
};
#define NSTATES (sizeof(live_states) / sizeof(live_states[0]))

/* One reading of the core's counters.  Each is read on its own, so the
 * set is not one instant; a scrape never needs it to be. */
typedef struct {
    double uptime; /* seconds since serving started */
    apr_uint64_t requests;
    apr_uint64_t bytes;
    int conns[NSTATES]; /* by live_states */
} status_snapshot_t;

/* The page being built, bounded (apr_vsnprintf truncates; never does
 * at this size). */
typedef struct {
    char buf[STATUS_PAGE_MAX];
    apr_size_t len;
} status_page_t;

typedef void status_render_fn(status_page_t *pg, const status_snapshot_t *st);

static void page_printf(status_page_t *pg, const char *fmt, ...)
    WEFT_PRINTF(2, 3);
static void page_printf(status_page_t *pg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pg->len +=
        apr_vsnprintf(pg->buf + pg->len, sizeof(pg->buf) - pg->len, fmt, ap);
    va_end(ap);
}

static void snapshot(weft_server_t *s, status_snapshot_t *st)
{
    apr_time_t up = apr_time_now() - weft_server_start_time(s);
    apr_size_t i;

    st->uptime = up > 0 ? (double)up / APR_USEC_PER_SEC : 0.0;
    st->requests = weft_server_requests(s);
    st->bytes = weft_server_bytes_sent(s);
    for (i = 0; i < NSTATES; i++)
        st->conns[i] = weft_server_conn_count(s, live_states[i]);
}

/* ---- the three formats ------------------------------------------------ */

/* For people: one "name: value" line each, named as in the JSON. */
static void render_text(status_page_t *pg, const status_snapshot_t *st)
{
    apr_size_t i;

    page_printf(pg,
                "weft " WEFT_VERSION_STRING " status\n"
                "uptime_seconds: %.6f\n"
                "requests_total: %" APR_UINT64_T_FMT "\n"
                "bytes_total: %" APR_UINT64_T_FMT "\n",
                st->uptime, st->requests, st->bytes);
    for (i = 0; i < NSTATES; i++)
        page_printf(pg, "connections_%s: %d\n",
                    weft_conn_state_name(live_states[i]), st->conns[i]);
}

/* One object, numbers as numbers; the state names need no escaping. */
static void render_json(status_page_t *pg, const status_snapshot_t *st)
{
    apr_size_t i;

    page_printf(pg,
                "{\"uptime_seconds\":%.6f,"
                "\"requests_total\":%" APR_UINT64_T_FMT ","
                "\"bytes_total\":%" APR_UINT64_T_FMT ",\"connections\":{",
                st->uptime, st->requests, st->bytes);
    for (i = 0; i < NSTATES; i++)
        page_printf(pg, "%s\"%s\":%d", i > 0 ? "," : "",
                    weft_conn_state_name(live_states[i]), st->conns[i]);
    page_printf(pg, "}}\n");
}

/* HELP and TYPE before each metric's samples, as the format asks. */
static void prom_family(status_page_t *pg, const char *name, const char *type,
                        const char *help)
{
    page_printf(pg, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_prometheus(status_page_t *pg, const status_snapshot_t *st)
{
    apr_size_t i;

    prom_family(pg, "weft_uptime_seconds", "gauge",
                "Seconds since the server started serving.");
    page_printf(pg, "weft_uptime_seconds %.6f\n", st->uptime);
    prom_family(pg, "weft_requests_total", "counter",
                "Requests answered since the server started.");
    page_printf(pg, "weft_requests_total %" APR_UINT64_T_FMT "\n",
                st->requests);
    prom_family(pg, "weft_bytes_total", "counter",
                "Response body bytes sent since the server started.");
    page_printf(pg, "weft_bytes_total %" APR_UINT64_T_FMT "\n", st->bytes);
    prom_family(pg, "weft_connections", "gauge",
                "Live connections by state (Go's ConnState).");
    for (i = 0; i < NSTATES; i++)
        page_printf(pg, "weft_connections{state=\"%s\"} %d\n",
                    weft_conn_state_name(live_states[i]), st->conns[i]);
}

/* ---- the handler ------------------------------------------------------- */

/* The renderer and Content-Type for ?format=, or NULL for an unknown
 * value.  No value, or an empty one (Go's Query().Get gives "" for
 * both), is the plain text page. */
static status_render_fn *pick_format(weft_request_t *r, const char **ctype)
{
    const char *f = weft_req_query_value(r, "format");

    if (f == NULL || *f == '\0' || strcmp(f, "text") == 0) {
        *ctype = CT_TEXT;
        return render_text;
    }
    if (strcmp(f, "json") == 0) {
        *ctype = CT_JSON;
        return render_json;
    }
    if (strcmp(f, "prometheus") == 0) {
        *ctype = CT_PROMETHEUS;
        return render_prometheus;
    }
    return NULL;
}

/*
 * GET and HEAD only (HEAD writes the page too: the core eats the body and
 * keeps its Content-Length, as Go does).  Other methods get Go's mux
 * answer for a method mismatch: 405 with Allow.
 */
static void status_handler(weft_rw_t *w, weft_request_t *r)
{
    const char *method = weft_req_method(r), *ctype;
    status_render_fn *render;
    status_snapshot_t st;
    status_page_t pg;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        apr_table_set(weft_rw_headers(w), "Allow", "GET, HEAD");
        weft_rw_error(w, 405, weft_status_text(405));
        return;
    }
    render = pick_format(r, &ctype);
    if (render == NULL) {
        weft_rw_error(w, 400, "unknown format: use text, json or prometheus");
        return;
    }
    snapshot(weft_req_server(r), &st);
    pg.len = 0;
    render(&pg, &st);
    apr_table_set(weft_rw_headers(w), "Content-Type", ctype);
    weft_rw_write(w, pg.buf, pg.len);
}

static void status_register_hooks(apr_pool_t *p)
{
    weft_handler_register("status", status_handler);
}

WEFT_DECLARE_MODULE(status) = {
    WEFT_MODULE_HEADER,    /* magic and ABI version */
    "status",              /* name, for logs and hook ordering */
    NULL,                  /* no directives: mount it with Handler/Handle */
    NULL,                  /* no per-server config */
    status_register_hooks, /* the `status` handler */
};
