/*
 * weft_sniff.c -- Go's http.DetectContentType: the WHATWG MIME sniffing
 * table, in Go's order and with Go's quirks, so that a response without a
 * Content-Type gets the header Go's server would have sent.
 */
#include <stdint.h>
#include <string.h>

#include "weft_core.h"
#include "weft_http.h"

#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_FALLBACK "application/octet-stream"

typedef enum {
    SIG_HTML,   /* tag after leading whitespace, ASCII case-insensitive */
    SIG_MASKED, /* (data[i] & mask[i]) == pat[i] for the whole pattern */
    SIG_EXACT,  /* plain prefix */
    SIG_MP4,    /* an ftyp box naming an mp4 brand */
    SIG_TEXT    /* no binary byte at all */
} sig_kind_t;

typedef struct {
    unsigned char kind;    /* sig_kind_t */
    unsigned char skip_ws; /* SIG_MASKED: match after leading whitespace */
    unsigned char len;     /* of pat, and of mask for SIG_MASKED */
    const char *pat;
    const char *mask; /* SIG_MASKED only */
    const char *ct;
} sniff_sig_t;

/*
 * Patterns are string literals measured with sizeof, since many hold NUL
 * bytes.  Beware of C hex escapes: "\x00A" is one byte (0x0A), so a NUL
 * followed by a hex-digit letter is written as "\x00" "A".
 */
#define HTML_SIG(tag)                                    \
    {                                                    \
        SIG_HTML, 0, sizeof(tag) - 1, tag, NULL, CT_HTML \
    }
#define EXACT_SIG(pat, ct)                           \
    {                                                \
        SIG_EXACT, 0, sizeof(pat) - 1, pat, NULL, ct \
    }
/*
 * Go refuses a masked signature whose mask and pattern differ in length;
 * here such a typo fails to compile instead (negative array size).
 */
#define MASKED_SIG(mask, pat, ws, ct)                                   \
    {                                                                   \
        SIG_MASKED, ws,                                                 \
            sizeof(pat) - 1 +                                           \
                0 * sizeof(char[sizeof(mask) == sizeof(pat) ? 1 : -1]), \
            pat, mask, ct                                               \
    }

/*
 * Go's sniffSignatures (net/http/sniff.go), in Go's order.  The first
 * match wins, so the order is behaviour: "<?xml" is XML only because no
 * HTML tag matched, and the text test comes last.
 */
static const sniff_sig_t sniff_sigs[] = {
    HTML_SIG("<!DOCTYPE HTML"),
    HTML_SIG("<HTML"),
    HTML_SIG("<HEAD"),
    HTML_SIG("<SCRIPT"),
    HTML_SIG("<IFRAME"),
    HTML_SIG("<H1"),
    HTML_SIG("<DIV"),
    HTML_SIG("<FONT"),
    HTML_SIG("<TABLE"),
    HTML_SIG("<A"),
    HTML_SIG("<STYLE"),
    HTML_SIG("<TITLE"),
    HTML_SIG("<B"),
    HTML_SIG("<BODY"),
    HTML_SIG("<BR"),
    HTML_SIG("<P"),
    HTML_SIG("<!--"),
    MASKED_SIG("\xFF\xFF\xFF\xFF\xFF", "<?xml", 1, "text/xml; charset=utf-8"),
    EXACT_SIG("%PDF-", "application/pdf"),
    EXACT_SIG("%!PS-Adobe-", "application/postscript"),

    /*
     * Byte order marks.  The masks are four bytes long although only the
     * BOM is compared: Go wants at least four bytes before it believes a
     * BOM, so a bare two-byte "\xFE\xFF" falls through to the text test.
     */
    MASKED_SIG("\xFF\xFF\x00\x00", "\xFE\xFF\x00\x00", 0,
               "text/plain; charset=utf-16be"),
    MASKED_SIG("\xFF\xFF\x00\x00", "\xFF\xFE\x00\x00", 0,
               "text/plain; charset=utf-16le"),
    MASKED_SIG("\xFF\xFF\xFF\x00", "\xEF\xBB\xBF\x00", 0, CT_TEXT),

    /* Images.  Go says image/x-icon (the WHATWG name) for icons and
     * cursors alike. */
    EXACT_SIG("\x00\x00\x01\x00", "image/x-icon"),
    EXACT_SIG("\x00\x00\x02\x00", "image/x-icon"),
    EXACT_SIG("BM", "image/bmp"),
    EXACT_SIG("GIF87a", "image/gif"),
    EXACT_SIG("GIF89a", "image/gif"),
    MASKED_SIG("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
               "RIFF\x00\x00\x00\x00WEBPVP", 0, "image/webp"),
    EXACT_SIG("\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
    EXACT_SIG("\xFF\xD8\xFF", "image/jpeg"),

    /* Audio and video, in the order the WHATWG spec prescribes. */
    MASKED_SIG("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
               "FORM\x00\x00\x00\x00"
               "AIFF",
               0, "audio/aiff"),
    MASKED_SIG("\xFF\xFF\xFF", "ID3", 0, "audio/mpeg"),
    MASKED_SIG("\xFF\xFF\xFF\xFF\xFF", "OggS\x00", 0, "application/ogg"),
    MASKED_SIG("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", "MThd\x00\x00\x00\x06", 0,
               "audio/midi"),
    MASKED_SIG("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
               "RIFF\x00\x00\x00\x00"
               "AVI ",
               0, "video/avi"),
    MASKED_SIG("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
               "RIFF\x00\x00\x00\x00WAVE", 0, "audio/wave"),
    { SIG_MP4, 0, 0, NULL, NULL, "video/mp4" },
    EXACT_SIG("\x1A\x45\xDF\xA3", "video/webm"),

    /* Fonts.  Embedded OpenType: any 34 bytes, then "LP". */
    MASKED_SIG("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xFF\xFF",
               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00LP",
               0, "application/vnd.ms-fontobject"),
    EXACT_SIG("\x00\x01\x00\x00", "font/ttf"),
    EXACT_SIG("OTTO", "font/otf"),
    EXACT_SIG("ttcf", "font/collection"),
    EXACT_SIG("wOFF", "font/woff"),
    EXACT_SIG("wOF2", "font/woff2"),

    /*
     * Archives.  RAR follows RAR Labs' signatures ("Rar!"), not the
     * WHATWG table's "Rar " (whatwg/mimesniff#63), as Go does.
     */
    EXACT_SIG("\x1F\x8B\x08", "application/x-gzip"),
    EXACT_SIG("PK\x03\x04", "application/zip"),
    EXACT_SIG("Rar!\x1A\x07\x00", "application/x-rar-compressed"),
    EXACT_SIG("Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),

    EXACT_SIG("\x00\x61\x73\x6D", "application/wasm"),

    { SIG_TEXT, 0, 0, NULL, NULL, CT_TEXT },
};

/* The WHATWG whitespace bytes (0xWS): not vertical tab. */
static int is_ws(unsigned char b)
{
    return b == '\t' || b == '\n' || b == '\x0c' || b == '\r' || b == ' ';
}

/* Go's tag-terminating bytes (0xTT): only space and '>', not '\n'. */
static int is_tt(unsigned char b)
{
    return b == ' ' || b == '>';
}

/*
 * The binary data bytes of the WHATWG spec (section 5, step 4), as a bit
 * per control byte: 0x00-0x08, 0x0B, 0x0E-0x1A, 0x1C-0x1F.  Tab, LF, FF,
 * CR and ESC are text; so is everything from 0x20 up, DEL and UTF-8 too.
 */
#define BINARY_CTRL_BITS                                                  \
    (UINT32_C(0x000001FF) | UINT32_C(0x00000800) | UINT32_C(0x07FFC000) | \
     UINT32_C(0xF0000000))

static int is_binary(unsigned char b)
{
    return b < 0x20 && ((BINARY_CTRL_BITS >> b) & 1);
}

static const char *match_html(const sniff_sig_t *s, const unsigned char *d,
                              apr_size_t n)
{
    apr_size_t i;

    /* The tag and the byte that must end it. */
    if (n < (apr_size_t)s->len + 1)
        return NULL;
    for (i = 0; i < s->len; i++) {
        unsigned char b = (unsigned char)s->pat[i];
        unsigned char db = d[i];

        /* Go folds only where the signature has a letter, and folds by
         * clearing bit 5: "<H1" needs a literal '1'. */
        if (b >= 'A' && b <= 'Z')
            db &= 0xDF;
        if (b != db)
            return NULL;
    }
    return is_tt(d[s->len]) ? s->ct : NULL;
}

static const char *match_masked(const sniff_sig_t *s, const unsigned char *d,
                                apr_size_t n)
{
    apr_size_t i;

    if (n < s->len)
        return NULL;
    for (i = 0; i < s->len; i++) {
        if ((d[i] & (unsigned char)s->mask[i]) != (unsigned char)s->pat[i])
            return NULL;
    }
    return s->ct;
}

/*
 * WHATWG's "signature for MP4": a leading ftyp box, wholly inside the
 * sniffed bytes, whose major brand or any compatible brand starts "mp4".
 * The box's second word (the minor version) is skipped.
 */
static const char *match_mp4(const sniff_sig_t *s, const unsigned char *d,
                             apr_size_t n)
{
    uint32_t box;
    uint32_t st;

    if (n < 12)
        return NULL;
    box = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
          (uint32_t)d[3];
    if (n < box || box % 4 != 0)
        return NULL;
    if (memcmp(d + 4, "ftyp", 4) != 0)
        return NULL;
    /* box <= n and box % 4 == 0, so d[st..st+2] is always in range. */
    for (st = 8; st < box; st += 4) {
        if (st == 12)
            continue;
        if (memcmp(d + st, "mp4", 3) == 0)
            return s->ct;
    }
    return NULL;
}

static const char *match_text(const sniff_sig_t *s, const unsigned char *d,
                              apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (is_binary(d[i]))
            return NULL;
    }
    return s->ct;
}

WEFT_DECLARE(const char *)
weft_detect_content_type(const void *data, apr_size_t n)
{
    const unsigned char *d = data;
    apr_size_t ws = 0;
    apr_size_t i;

    /* Every signature but the text test needs a byte, and nothing is
     * binary in nothing: Go calls empty data text (data may be NULL). */
    if (n == 0)
        return CT_TEXT;
    if (n > WEFT_SNIFF_LEN)
        n = WEFT_SNIFF_LEN;
    /* Whitespace is skipped only for HTML, XML and the text test; every
     * binary signature must start at byte 0. */
    while (ws < n && is_ws(d[ws]))
        ws++;

    for (i = 0; i < sizeof(sniff_sigs) / sizeof(sniff_sigs[0]); i++) {
        const sniff_sig_t *s = &sniff_sigs[i];
        const char *ct = NULL;

        switch ((sig_kind_t)s->kind) {
        case SIG_HTML:
            ct = match_html(s, d + ws, n - ws);
            break;
        case SIG_MASKED:
            ct = s->skip_ws ? match_masked(s, d + ws, n - ws)
                            : match_masked(s, d, n);
            break;
        case SIG_EXACT:
            if (n >= s->len && memcmp(d, s->pat, s->len) == 0)
                ct = s->ct;
            break;
        case SIG_MP4:
            ct = match_mp4(s, d, n);
            break;
        case SIG_TEXT:
            ct = match_text(s, d + ws, n - ws);
            break;
        }
        if (ct != NULL)
            return ct;
    }
    return CT_FALLBACK;
}
