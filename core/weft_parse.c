/*
 * weft_parse.c -- the value syntaxes of weft's configuration: Go-style
 * durations, sizes with K/M/G, on|off flags and counts, plus the inverse
 * of the duration parser for messages.
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "weft_core.h"

typedef struct {
    const char *name;
    uint64_t ns;
} duration_unit_t;

/* Go's unitMap.  Longer names first so "ms" is not read as "m". */
static const duration_unit_t duration_units[] = {
    { "ns", 1ULL },           { "us", 1000ULL },
    { "\xc2\xb5s", 1000ULL }, /* U+00B5 micro sign */
    { "\xce\xbcs", 1000ULL }, /* U+03BC Greek mu */
    { "ms", 1000000ULL },     { "s", 1000000000ULL },
    { "m", 60000000000ULL },  { "h", 3600000000000ULL },
};

static const duration_unit_t *duration_unit(const char **p)
{
    const duration_unit_t *best = NULL;
    size_t best_len = 0;
    size_t i;

    for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
        size_t n = strlen(duration_units[i].name);
        if (n > best_len && strncmp(*p, duration_units[i].name, n) == 0) {
            best = &duration_units[i];
            best_len = n;
        }
    }
    *p += best_len;
    return best;
}

WEFT_DECLARE(apr_status_t)
weft_parse_duration(const char *text, apr_interval_time_t *out)
{
    const char *p = text;
    uint64_t total_ns = 0;
    uint64_t us;

    if (text == NULL || *p == '\0')
        return APR_EINVAL;
    if (*p == '+')
        p++;
    else if (*p == '-')
        return APR_EINVAL;
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return APR_SUCCESS;
    }
    if (*p == '\0')
        return APR_EINVAL;

    while (*p != '\0') {
        uint64_t whole = 0, frac = 0, scale = 1, part;
        int digits = 0;
        const duration_unit_t *unit;

        while (apr_isdigit(*p)) {
            if (whole > (UINT64_MAX - 9) / 10)
                return APR_ERANGE;
            whole = whole * 10 + (uint64_t)(*p - '0');
            p++;
            digits++;
        }
        if (*p == '.') {
            p++;
            while (apr_isdigit(*p)) {
                /* Digits past nanosecond precision of an hour are noise. */
                if (scale < 1000000000000000000ULL) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
                p++;
                digits++;
            }
        }
        if (digits == 0)
            return APR_EINVAL;
        unit = duration_unit(&p);
        if (unit == NULL)
            return APR_EINVAL; /* Go: missing or unknown unit */
        if (whole > UINT64_MAX / unit->ns)
            return APR_ERANGE;
        part = whole * unit->ns;
        /* frac/scale < 1, so frac * (unit->ns / scale) cannot overflow
         * when scale divides the unit; otherwise use long double. */
        part += (uint64_t)((long double)frac * (long double)unit->ns /
                           (long double)scale);
        if (part > UINT64_MAX - total_ns)
            return APR_ERANGE;
        total_ns += part;
    }
    us = total_ns / 1000 + (total_ns % 1000 != 0);
    if (us > (uint64_t)INT64_MAX)
        return APR_ERANGE;
    *out = (apr_interval_time_t)us;
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t) weft_parse_size(const char *text, apr_size_t *out)
{
    const char *p = text;
    apr_uint64_t v = 0, mult = 1;

    if (text == NULL || !apr_isdigit(*p))
        return APR_EINVAL;
    while (apr_isdigit(*p)) {
        if (v > (UINT64_MAX - 9) / 10)
            return APR_ERANGE;
        v = v * 10 + (apr_uint64_t)(*p - '0');
        p++;
    }
    switch (*p) {
    case '\0':
        break;
    case 'k':
    case 'K':
        mult = 1024;
        p++;
        break;
    case 'm':
    case 'M':
        mult = 1024 * 1024;
        p++;
        break;
    case 'g':
    case 'G':
        mult = 1024 * 1024 * 1024;
        p++;
        break;
    default:
        return APR_EINVAL;
    }
    if (*p != '\0')
        return APR_EINVAL;
    if (v > (apr_uint64_t)APR_SIZE_MAX / mult)
        return APR_ERANGE;
    *out = (apr_size_t)(v * mult);
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t) weft_parse_flag(const char *text, int *out)
{
    if (text == NULL)
        return APR_EINVAL;
    if (strcasecmp(text, "on") == 0)
        *out = 1;
    else if (strcasecmp(text, "off") == 0)
        *out = 0;
    else
        return APR_EINVAL;
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t) weft_parse_count(const char *text, int *out)
{
    const char *p = text;
    long v = 0;

    if (text == NULL || !apr_isdigit(*p))
        return APR_EINVAL;
    while (apr_isdigit(*p)) {
        v = v * 10 + (*p - '0');
        if (v > INT_MAX)
            return APR_ERANGE;
        p++;
    }
    if (*p != '\0')
        return APR_EINVAL;
    *out = (int)v;
    return APR_SUCCESS;
}

/* Appends "N" or "N.FFF" (trailing zeros dropped) for v / scale. */
static char *fmt_fixed(apr_pool_t *p, apr_uint64_t v, apr_uint64_t scale,
                       int width)
{
    apr_uint64_t whole = v / scale, frac = v % scale;
    char buf[32];
    int n;

    if (frac == 0)
        return apr_psprintf(p, "%" APR_UINT64_T_FMT, whole);
    n = apr_snprintf(buf, sizeof(buf), "%0*" APR_UINT64_T_FMT, width, frac);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    return apr_psprintf(p, "%" APR_UINT64_T_FMT ".%s", whole, buf);
}

WEFT_DECLARE(const char *)
weft_format_duration(apr_pool_t *p, apr_interval_time_t d)
{
    apr_uint64_t us, h, m, rest;

    if (d == 0)
        return "0s";
    if (d < 0)
        return apr_pstrcat(p, "-", weft_format_duration(p, -d), NULL);
    us = (apr_uint64_t)d;
    if (us < 1000)
        return apr_psprintf(p, "%" APR_UINT64_T_FMT "\xc2\xb5s", us);
    if (us < 1000000)
        return apr_pstrcat(p, fmt_fixed(p, us, 1000, 3), "ms", NULL);
    h = us / 3600000000ULL;
    rest = us % 3600000000ULL;
    m = rest / 60000000ULL;
    rest %= 60000000ULL;
    if (h > 0)
        return apr_psprintf(p,
                            "%" APR_UINT64_T_FMT "h%" APR_UINT64_T_FMT "m%ss",
                            h, m, fmt_fixed(p, rest, 1000000, 6));
    if (m > 0)
        return apr_psprintf(p, "%" APR_UINT64_T_FMT "m%ss", m,
                            fmt_fixed(p, rest, 1000000, 6));
    return apr_pstrcat(p, fmt_fixed(p, rest, 1000000, 6), "s", NULL);
}
