/*
 * mux_bench.c -- mod_mux's lookup cost against the number of routes: the
 * same REST-like request mix routed through 10 routes and through 1,000.
 * Not a test: `make tests/bench/mux_bench && tests/bench/mux_bench [SECS]`.
 */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mux.h"

#define ROUTES_PER_RESOURCE 10
#define REQUESTS 1600 /* distinct requests cycled through, per tree */
#define ROUNDS 3

/* Ten routes per resource, as a JSON API has them; {R} is the resource's
 * number, {I} and {J} numbers that vary from request to request. */
static const char *const route_fmt[ROUTES_PER_RESOURCE] = {
    "GET /api/v1/res{R}",
    "POST /api/v1/res{R}",
    "GET /api/v1/res{R}/{id}",
    "PUT /api/v1/res{R}/{id}",
    "DELETE /api/v1/res{R}/{id}",
    "GET /api/v1/res{R}/{id}/items",
    "POST /api/v1/res{R}/{id}/items",
    "GET /api/v1/res{R}/{id}/items/{item}",
    "GET /api/v1/res{R}/search/{$}",
    "GET /api/v1/res{R}/{id}/files/{path...}",
};

/* The request mix: every one of them matches a route. */
static const struct {
    const char *method, *path;
} mix[] = {
    { "GET", "/api/v1/res{R}" },
    { "GET", "/api/v1/res{R}/{I}" },
    { "PUT", "/api/v1/res{R}/{I}" },
    { "GET", "/api/v1/res{R}/{I}/items" },
    { "GET", "/api/v1/res{R}/{I}/items/{J}" },
    { "GET", "/api/v1/res{R}/search/" },
    { "GET", "/api/v1/res{R}/{I}/files/docs/2024/report.pdf" },
    { "DELETE", "/api/v1/res{R}/{I}" },
};
#define MIX (int)(sizeof(mix) / sizeof(mix[0]))

/* t with every "{R}", "{I}" and "{J}" replaced by r, i and j. */
static const char *expand(apr_pool_t *p, const char *t, int r, int i, int j)
{
    const char *out = "";

    while (*t != '\0') {
        const char *b = strchr(t, '{');
        if (b == NULL || b[1] == '\0' || b[2] != '}' ||
            strchr("RIJ", b[1]) == NULL) {
            size_t n = b != NULL ? (size_t)(b - t) + 1 : strlen(t);
            out = apr_pstrcat(p, out, apr_pstrmemdup(p, t, n), NULL);
            t += n;
            continue;
        }
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, t, (size_t)(b - t)),
                          apr_psprintf(p, b[1] == 'R' ? "%03d" : "%d",
                                       b[1] == 'R'   ? r
                                       : b[1] == 'I' ? i
                                                     : j),
                          NULL);
        t = b + 3;
    }
    return out;
}

static void nop(weft_rw_t *w, weft_request_t *r)
{
    (void)w;
    (void)r;
}

static mux_t *build(apr_pool_t *p, int resources)
{
    mux_t *m = mux_create(p);
    int k, j;

    for (k = 0; k < resources; k++)
        for (j = 0; j < ROUTES_PER_RESOURCE; j++) {
            const char *why = mux_register(m, expand(p, route_fmt[j], k, 0, 0),
                                           "bench", nop, NULL);
            if (why != NULL) {
                fprintf(stderr, "mux_bench: %s\n", why);
                exit(2);
            }
        }
    return m;
}

/* REQUESTS requests over the first `resources` resources. */
static mux_request_t *requests(apr_pool_t *p, int resources)
{
    mux_request_t *rq = apr_pcalloc(p, sizeof(*rq) * REQUESTS);
    int i;

    for (i = 0; i < REQUESTS; i++) {
        int k = (i / MIX) % resources, id = 1000 + i * 7;
        const char *path = expand(p, mix[i % MIX].path, k, id, i % 50);
        rq[i].method = mix[i % MIX].method;
        rq[i].uri = rq[i].path = rq[i].raw_path = path;
        rq[i].host = "api.example.com";
        rq[i].url_host = "";
    }
    return rq;
}

/* Lookups per second over about secs seconds. */
static double measure(const mux_t *m, const mux_request_t *rq, double secs)
{
    apr_pool_t *p;
    apr_time_t start = apr_time_now(), end = start + (apr_time_t)(secs * 1e6);
    apr_time_t now = start;
    long n = 0;

    apr_pool_create(&p, NULL);
    while (now < end) {
        int i;
        /* A request pool's life: cleared after each batch, as weft clears
         * it after each request. */
        for (i = 0; i < 1024; i++, n++) {
            mux_result_t res;
            mux_find(m, p, &rq[n % REQUESTS], &res);
            if (res.outcome != MUX_FOUND) {
                fprintf(stderr, "mux_bench: %s %s did not match\n",
                        rq[n % REQUESTS].method, rq[n % REQUESTS].path);
                exit(2);
            }
        }
        apr_pool_clear(p);
        now = apr_time_now();
    }
    apr_pool_destroy(p);
    return (double)n / ((double)(now - start) / 1e6);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0, best10 = 0, best1000 = 0;
    apr_pool_t *p;
    mux_t *m10, *m1000;
    mux_request_t *r10, *r1000;
    int round;

    if (secs <= 0) {
        fprintf(stderr, "usage: mux_bench [SECONDS_PER_RUN]\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    m10 = build(p, 1);
    m1000 = build(p, 100);
    r10 = requests(p, 1);
    r1000 = requests(p, 100);
    printf("mux_bench: %d and %d routes, %d-request REST mix, best of %d "
           "runs of %.1f s\n",
           m10->patterns->nelts, m1000->patterns->nelts, MIX, ROUNDS, secs);
    for (round = 0; round < ROUNDS; round++) {
        double a = measure(m10, r10, secs), b = measure(m1000, r1000, secs);
        if (a > best10)
            best10 = a;
        if (b > best1000)
            best1000 = b;
        printf("  run %d: 10 routes %.0f/s, 1000 routes %.0f/s\n", round + 1, a,
               b);
    }
    printf("10 routes:   %.0f lookups/s\n1000 routes: %.0f lookups/s\n"
           "ratio 1000/10: %.3f\n",
           best10, best1000, best1000 / best10);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
