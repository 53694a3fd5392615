/*
 * test_sniff.c -- Go's http.DetectContentType as weft_detect_content_type
 * (Go's own sniff_test.go table, then the edges: whitespace, tag ends, the
 * 512-byte window, mp4 boxes) and Go's status texts and body rule.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "weft_core.h"
#include "weft_http.h"

#define HTML "text/html; charset=utf-8"
#define TEXT "text/plain; charset=utf-8"
#define XML "text/xml; charset=utf-8"
#define OCTET "application/octet-stream"

typedef struct {
    const char *desc;
    const char *data;
    apr_size_t len;
    const char *ct;
} sniff_case_t;

/*
 * sizeof, not strlen: most samples hold NUL bytes.  A NUL before a
 * hex-digit letter is split ("\x00" "AVI"), or C would read "\x00A".
 */
#define CASE(desc, lit, ct)            \
    {                                  \
        desc, lit, sizeof(lit) - 1, ct \
    }

/* Go's sniffTests (net/http/sniff_test.go), row for row. */
static const sniff_case_t go_cases[] = {
    CASE("Empty", "", TEXT),
    CASE("Binary", "\x01\x02\x03", OCTET),

    CASE("HTML document #1", "<HtMl><bOdY>blah blah blah</body></html>", HTML),
    CASE("HTML document #2", "<HTML></HTML>", HTML),
    CASE("HTML document #3 (leading whitespace)", "   <!DOCTYPE HTML>...",
         HTML),
    CASE("HTML document #4 (leading CRLF)", "\r\n<html>...", HTML),

    CASE("Plain text", "This is not HTML. It has \xe2\x98\x83 though.", TEXT),

    CASE("XML", "\n<?xml!", XML),

    CASE("Windows icon", "\x00\x00\x01\x00", "image/x-icon"),
    CASE("Windows cursor", "\x00\x00\x02\x00", "image/x-icon"),
    CASE("BMP image", "BM...", "image/bmp"),
    CASE("GIF 87a", "GIF87a", "image/gif"),
    CASE("GIF 89a", "GIF89a...", "image/gif"),
    CASE("WEBP image", "RIFF\x00\x00\x00\x00WEBPVP", "image/webp"),
    CASE("PNG image", "\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
    CASE("JPEG image", "\xFF\xD8\xFF", "image/jpeg"),

    CASE("MIDI audio", "MThd\x00\x00\x00\x06\x00\x01", "audio/midi"),
    CASE("MP3 audio/MPEG audio", "ID3\x03\x00\x00\x00\x00\x0f", "audio/mpeg"),
    CASE("WAV audio #1", "RIFFb\xb8\x00\x00WAVEfmt \x12\x00\x00\x00\x06",
         "audio/wave"),
    CASE("WAV audio #2", "RIFF,\x00\x00\x00WAVEfmt \x12\x00\x00\x00\x06",
         "audio/wave"),
    CASE("AIFF audio #1",
         "FORM\x00\x00\x00\x00"
         "AIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00\x57\x55\x00\x10\x40\x0d"
         "\xf3\x34",
         "audio/aiff"),

    CASE("OGG audio",
         "OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x7e\x46\x00\x00\x00"
         "\x00\x00\x00\x1f\xf6\xb4\xfc\x01\x1e\x01\x76\x6f\x72",
         "application/ogg"),
    CASE("Must not match OGG #1", "owow\x00", OCTET),
    CASE("Must not match OGG #2", "oooS\x00", OCTET),
    CASE("Must not match OGG #3", "oggS\x00", OCTET),

    CASE("MP4 video",
         "\x00\x00\x00\x18"
         "ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat",
         "video/mp4"),
    CASE("AVI video #1",
         "RIFF,O\n\x00"
         "AVI LIST\xc3\x80",
         "video/avi"),
    CASE("AVI video #2",
         "RIFF,\n\x00\x00"
         "AVI LIST\xc3\x80",
         "video/avi"),

    CASE("TTF sample  I",
         "\x00\x01\x00\x00\x00\x17\x01\x00\x00\x04\x01\x60\x4f", "font/ttf"),
    CASE("TTF sample II",
         "\x00\x01\x00\x00\x00\x0e\x00\x80\x00\x03\x00\x60\x46", "font/ttf"),
    CASE("OTTO sample  I",
         "\x4f\x54\x54\x4f\x00\x0e\x00\x80\x00\x03\x00\x60\x42\x41\x53\x45",
         "font/otf"),
    CASE("woff sample  I",
         "\x77\x4f\x46\x46\x00\x01\x00\x00\x00\x00\x30\x54\x00\x0d\x00\x00",
         "font/woff"),
    CASE("woff2 sample", "\x77\x4f\x46\x32\x00\x01\x00\x00\x00", "font/woff2"),
    CASE("wasm sample", "\x00\x61\x73\x6d\x01\x00", "application/wasm"),

    CASE("RAR v1.5-v4.0", "Rar!\x1A\x07\x00", "application/x-rar-compressed"),
    CASE("RAR v5+", "Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
    CASE("Incorrect RAR v1.5-v4.0", "Rar \x1A\x07\x00", OCTET),
    CASE("Incorrect RAR v5+", "Rar \x1A\x07\x01\x00", OCTET),
};

/* The edges of Go's rules, each checked against Go 1.19+ itself. */
static const sniff_case_t edge_cases[] = {
    /* An HTML tag needs a terminating ' ' or '>' after it, nothing else. */
    CASE("tag without its end", "<HTML", TEXT),
    CASE("longer tag name", "<htmlx>", TEXT),
    CASE("newline does not end a tag", "<p\n>", TEXT),
    CASE("attribute after space", "<a href=x>", HTML),
    CASE("<br>", "<br>", HTML),
    CASE("<H1> with a digit", "<h1 >", HTML),
    CASE("<SCRIPT>", "<ScRiPt>x", HTML),
    CASE("comment", "<!-- c -->", HTML),
    CASE("comment glued to text", "<!--x-->", TEXT),
    CASE("doctype lower case", "<!doctype html>", HTML),
    CASE("unknown tag", "<span>x</span>", TEXT),
    CASE("form feed is whitespace", "\x0c<html>", HTML),
    CASE("vertical tab is binary", "\x0b<html>", OCTET),
    CASE("whitespace only", "\t\n\x0c\r ", TEXT),

    /* XML: skips whitespace, case-sensitive, five bytes. */
    CASE("XML after spaces", "  <?xml version=\"1.0\"?>", XML),
    CASE("XML upper case", "<?XML", TEXT),
    CASE("XML short", "<?xm", TEXT),

    /* Binary signatures start at byte 0, whitespace or not. */
    CASE("PDF", "%PDF-1.7\n", "application/pdf"),
    CASE("PDF after a space", " %PDF-1.7", TEXT),
    CASE("PostScript", "%!PS-Adobe-3.0", "application/postscript"),
    CASE("GIF after a space", " GIF89a", TEXT),

    /* BOMs want four bytes. */
    CASE("UTF-16BE BOM", "\xFE\xFF\x00h", "text/plain; charset=utf-16be"),
    CASE("UTF-16LE BOM", "\xFF\xFEh\x00", "text/plain; charset=utf-16le"),
    CASE("UTF-8 BOM", "\xEF\xBB\xBFhi", TEXT),
    CASE("UTF-16BE BOM alone", "\xFE\xFF", TEXT),
    CASE("UTF-16LE BOM then binary", "\xFF\xFE\x01", OCTET),

    CASE("BMP, two bytes", "BM", "image/bmp"),
    CASE("WEBP without VP", "RIFF\x00\x00\x00\x00WEBPXX", OCTET),
    CASE("webm", "\x1A\x45\xDF\xA3\x01\x00", "video/webm"),
    CASE("font collection", "ttcf\x00\x01\x00\x00", "font/collection"),
    CASE("gzip", "\x1F\x8B\x08\x00\x00\x00", "application/x-gzip"),
    CASE("zip", "PK\x03\x04\x14\x00", "application/zip"),

    /* mp4: box size a multiple of 4, within the data; brand "mp4". */
    CASE("mp4 box size not a multiple of 4",
         "\x00\x00\x00\x19"
         "ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat",
         OCTET),
    CASE("mp4 box longer than the data",
         "\x00\x00\x00\x40"
         "ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat",
         OCTET),
    CASE("mp4 compatible brand",
         "\x00\x00\x00\x14"
         "ftypisom\x00\x00\x00\x00mp41",
         "video/mp4"),
    CASE("mp4 in the minor version only",
         "\x00\x00\x00\x14"
         "ftypisom"
         "mp41isom",
         OCTET),

    /* The text test: ESC, DEL and high bytes are text. */
    CASE("ANSI escape", "\x1b[0mok", TEXT),
    CASE("DEL and Latin-1", "a\x7f\xe9", TEXT),
    CASE("NUL", "a\x00", OCTET),
    CASE("0x1C", "a\x1c", OCTET),
};

static void check_case(const sniff_case_t *c)
{
    const char *got = weft_detect_content_type(c->data, c->len);

    ck_assert_msg(got != NULL && strcmp(got, c->ct) == 0,
                  "%s: got \"%s\", want \"%s\"", c->desc, got ? got : "(null)",
                  c->ct);
}

START_TEST(go_table)
{
    check_case(&go_cases[_i]);
}
END_TEST

START_TEST(edges)
{
    check_case(&edge_cases[_i]);
}
END_TEST

START_TEST(null_and_empty)
{
    ck_assert_str_eq(weft_detect_content_type(NULL, 0), TEXT);
    ck_assert_str_eq(weft_detect_content_type("x", 0), TEXT);
}
END_TEST

START_TEST(window_is_512_bytes)
{
    static unsigned char buf[1024];

    ck_assert_int_eq(WEFT_SNIFF_LEN, 512);

    /* A binary byte just past the window is never seen; one inside is. */
    memset(buf, 'a', sizeof(buf));
    buf[512] = 0;
    ck_assert_str_eq(weft_detect_content_type(buf, sizeof(buf)), TEXT);
    buf[511] = 0;
    ck_assert_str_eq(weft_detect_content_type(buf, sizeof(buf)), OCTET);

    /* Leading whitespace counts against the window too. */
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + 506, "<html>", 6);
    ck_assert_str_eq(weft_detect_content_type(buf, 512), HTML);
    ck_assert_str_eq(weft_detect_content_type(buf, sizeof(buf)), HTML);
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + 507, "<html>", 6); /* the '>' is byte 512 */
    ck_assert_str_eq(weft_detect_content_type(buf, sizeof(buf)), TEXT);
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + 600, "<html>", 6);
    ck_assert_str_eq(weft_detect_content_type(buf, sizeof(buf)), TEXT);

    /* An mp4 ftyp box must end inside the window: 508 does, 516 not. */
    memset(buf, 0, sizeof(buf));
    memcpy(buf,
           "\x00\x00\x01\xFC"
           "ftypisom",
           12);
    memcpy(buf + 504, "mp42", 4);
    ck_assert_str_eq(weft_detect_content_type(buf, 600), "video/mp4");
    memcpy(buf, "\x00\x00\x02\x04", 4);
    ck_assert_str_eq(weft_detect_content_type(buf, 600), OCTET);
}
END_TEST

START_TEST(embedded_opentype)
{
    unsigned char buf[40];

    /* Any 34 bytes, then "LP"; one byte fewer is not enough. */
    memset(buf, 0x01, sizeof(buf));
    memcpy(buf + 34, "LP", 2);
    ck_assert_str_eq(weft_detect_content_type(buf, 36),
                     "application/vnd.ms-fontobject");
    ck_assert_str_eq(weft_detect_content_type(buf, sizeof(buf)),
                     "application/vnd.ms-fontobject");
    ck_assert_str_eq(weft_detect_content_type(buf, 35), OCTET);
    memset(buf, 'x', 34);
    ck_assert_str_eq(weft_detect_content_type(buf, 36),
                     "application/vnd.ms-fontobject");
}
END_TEST

START_TEST(status_texts)
{
    ck_assert_str_eq(weft_status_text(100), "Continue");
    ck_assert_str_eq(weft_status_text(101), "Switching Protocols");
    ck_assert_str_eq(weft_status_text(103), "Early Hints");
    ck_assert_str_eq(weft_status_text(200), "OK");
    ck_assert_str_eq(weft_status_text(203), "Non-Authoritative Information");
    ck_assert_str_eq(weft_status_text(207), "Multi-Status");
    ck_assert_str_eq(weft_status_text(226), "IM Used");
    ck_assert_str_eq(weft_status_text(304), "Not Modified");
    ck_assert_str_eq(weft_status_text(308), "Permanent Redirect");
    ck_assert_str_eq(weft_status_text(404), "Not Found");
    ck_assert_str_eq(weft_status_text(407), "Proxy Authentication Required");
    ck_assert_str_eq(weft_status_text(413), "Request Entity Too Large");
    ck_assert_str_eq(weft_status_text(414), "Request URI Too Long");
    ck_assert_str_eq(weft_status_text(416), "Requested Range Not Satisfiable");
    ck_assert_str_eq(weft_status_text(418), "I'm a teapot");
    ck_assert_str_eq(weft_status_text(421), "Misdirected Request");
    ck_assert_str_eq(weft_status_text(422), "Unprocessable Entity");
    ck_assert_str_eq(weft_status_text(425), "Too Early");
    ck_assert_str_eq(weft_status_text(426), "Upgrade Required");
    ck_assert_str_eq(weft_status_text(428), "Precondition Required");
    ck_assert_str_eq(weft_status_text(429), "Too Many Requests");
    ck_assert_str_eq(weft_status_text(431), "Request Header Fields Too Large");
    ck_assert_str_eq(weft_status_text(451), "Unavailable For Legal Reasons");
    ck_assert_str_eq(weft_status_text(500), "Internal Server Error");
    ck_assert_str_eq(weft_status_text(505), "HTTP Version Not Supported");
    ck_assert_str_eq(weft_status_text(511), "Network Authentication Required");
}
END_TEST

START_TEST(status_unknown)
{
    /* Codes Go does not name, including 306 (reserved) and the gaps. */
    static const int unknown[] = { -1,  0,   99,  104, 199, 209, 299,
                                   306, 309, 419, 420, 427, 430, 499,
                                   509, 512, 599, 600, 999, 1000 };
    size_t i;

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        ck_assert_msg(weft_status_text(unknown[i]) == NULL,
                      "%d: got \"%s\", want NULL", unknown[i],
                      weft_status_text(unknown[i]));
}
END_TEST

START_TEST(status_count)
{
    /* Go names exactly 62 codes, all between 100 and 599. */
    int code;
    int named = 0;

    for (code = 0; code < 1000; code++)
        named += weft_status_text(code) != NULL;
    ck_assert_int_eq(named, 62);
}
END_TEST

START_TEST(bodies)
{
    ck_assert_int_eq(weft_status_allows_body(100), 0);
    ck_assert_int_eq(weft_status_allows_body(101), 0);
    ck_assert_int_eq(weft_status_allows_body(103), 0);
    ck_assert_int_eq(weft_status_allows_body(150), 0);
    ck_assert_int_eq(weft_status_allows_body(199), 0);
    ck_assert_int_eq(weft_status_allows_body(204), 0);
    ck_assert_int_eq(weft_status_allows_body(304), 0);
    ck_assert_int_eq(weft_status_allows_body(200), 1);
    ck_assert_int_eq(weft_status_allows_body(201), 1);
    ck_assert_int_eq(weft_status_allows_body(205), 1);
    ck_assert_int_eq(weft_status_allows_body(206), 1);
    ck_assert_int_eq(weft_status_allows_body(301), 1);
    ck_assert_int_eq(weft_status_allows_body(404), 1);
    ck_assert_int_eq(weft_status_allows_body(500), 1);
    /* Go's rule is only those ranges: anything else may have a body. */
    ck_assert_int_eq(weft_status_allows_body(99), 1);
    ck_assert_int_eq(weft_status_allows_body(299), 1);
    ck_assert_int_eq(weft_status_allows_body(600), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sniff");
    TCase *tc_sniff = tcase_create("content_type");
    TCase *tc_status = tcase_create("status");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc_sniff, go_table, 0,
                        sizeof(go_cases) / sizeof(go_cases[0]));
    tcase_add_loop_test(tc_sniff, edges, 0,
                        sizeof(edge_cases) / sizeof(edge_cases[0]));
    tcase_add_test(tc_sniff, null_and_empty);
    tcase_add_test(tc_sniff, window_is_512_bytes);
    tcase_add_test(tc_sniff, embedded_opentype);
    suite_add_tcase(s, tc_sniff);
    tcase_add_test(tc_status, status_texts);
    tcase_add_test(tc_status, status_unknown);
    tcase_add_test(tc_status, status_count);
    tcase_add_test(tc_status, bodies);
    suite_add_tcase(s, tc_status);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
