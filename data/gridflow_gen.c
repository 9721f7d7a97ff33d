/*
 * gridflow_gen.c - deterministic generator of utility-style smart-meter CSV "drops".
 *
 * Writes six CSV files that are structurally indistinguishable from the New York
 * utility sample the gridflow extension ingests (UTF-8 BOM, LF line endings, no
 * trailing newline, the same headers, ID shapes, vocabularies, value ranges and
 * data-quality quirks), and seven more for two utilities in other layouts, with every
 * value synthesized from small made-up word lists and a private PRNG:
 *
 *   OUTDIR/utility1/utility1_service_points.csv   upper-case addresses, SP-######## ids
 *   OUTDIR/utility1/utility1_meters.csv           meter read log (MTR-######## ids),
 *                                                 incl. a malformed bare "MTR-" id
 *   OUTDIR/utility1/utility1_intervals.csv        export blocks of 5/15-minute reads;
 *                                                 a few SPs carry a kWh AND a kVARh read
 *                                                 at the same instant (dedup key needs
 *                                                 the channel)
 *   OUTDIR/utility2/utility2_service_points.csv   premises repeated 2-7 times with a
 *                                                 different address each time (not
 *                                                 adjacent); some RFC-4180 quoted
 *                                                 house_supp values ("a, b", "a ""b""")
 *   OUTDIR/utility2/utility2_meters.csv           meters listed under 1-9 premises; the
 *                                                 first row of a meter names its premise;
 *                                                 ~40% of premises are orphans (absent
 *                                                 from service points)
 *   OUTDIR/utility2/utility2_intervals.csv        daily reads (YYYYMMDD) whose time of
 *                                                 day was cut off: ~86% of the rows repeat
 *                                                 an earlier (meter, date, channel) key
 *                                                 with a different value
 *
 * Utilities 3 and 4 cover 2025-03-06 .. 03-12 and 2025-10-30 .. 11-05, so both
 * daylight-saving changes of America/New_York (a 23-hour and a 25-hour day):
 *
 *   OUTDIR/utility3/premises.csv        semicolon-delimited, CRLF, no BOM; opened as
 *                                       epoch seconds
 *   OUTDIR/utility3/meters.csv          no service point; installed as local
 *                                       MM/DD/YYYY HH24:MI
 *   OUTDIR/utility3/meter_premise.csv   meter-to-premise assignments, From/To in UTC
 *                                       (YYYY-MM-DD HH24:MI:SS): a meter that moved
 *                                       premises years ago, a meter exchanged on
 *                                       2025-11-03 10:00 local
 *   OUTDIR/utility3/interval_reads.csv  long layout: local start MM/DD/YYYY HH24:MI
 *                                       without offset (the fall-back hour appears
 *                                       twice, in order; the skipped hour never),
 *                                       length in minutes, usage in kWh or Wh with a
 *                                       unit column; an hourly reactive channel gives
 *                                       neither length nor unit; a garbled unit; a read
 *                                       of the exchanged meter after its removal
 *   OUTDIR/utility4/service_points.csv  last modified in UTC
 *   OUTDIR/utility4/meters.csv          installed as epoch seconds
 *   OUTDIR/utility4/usage_wide.csv      wide layout: a row per service point, meter,
 *                                       day and flow (DEL, REC for solar customers),
 *                                       unit kWh or Wh, then 96 wall-clock quarter-hour
 *                                       columns 00:15 .. 24:00; the skipped hour's four
 *                                       columns are empty, the repeated hour's four hold
 *                                       both occurrences added together; one missing
 *                                       quarter-hour
 *
 * usage: gridflow_gen [-s SCALE] [-S SEED] [-u LIST] [-v] OUTDIR
 *   SCALE  positive decimal (default 1; 1 ~ the real sample, ~43k utility2 reads;
 *          50 ~ 2.2M, 200 ~ 8.6M); every count scales linearly, the date windows
 *          (utilities 1 and 2: 2025-01-22 .. 2025-02-21) do not.
 *   SEED   unsigned 64-bit integer (default 1).
 *   LIST   the utilities to write, e.g. 1,2 (default 1,2,3,4); each utility draws
 *          from its own PRNG streams, so the files of one do not depend on the others.
 *   -v     anomalies for the validation rules (VEE) in the quarter-hour series of
 *          utilities 3 and 4: zero runs, flat lines, spikes and gaps (see
 *          u34_anomaly()); off by default, so the drops (and the benchmark figures
 *          made from them) stay as they were; with it, only those reads change.
 * Same SCALE + SEED => byte-identical output on any machine: integer-only arithmetic
 * (no floating point, no libm, no locale, no clock), splitmix64 PRNG, one PRNG draw
 * per full expression (argument evaluation order is unspecified in C).
 * Prints "<path>: <rows> rows, <bytes> bytes" per file to stderr (rows exclude the
 * header). Exit status: 0 ok, 1 I/O or memory error (with a message), 2 bad usage.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -std=c99 -o gridflow_gen gridflow_gen.c
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PROG "gridflow_gen"
#define SCALE_ONE 1000000ULL           /* scale is parsed to millionths */
#define SCALE_MAX (5000ULL * SCALE_ONE)

static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p;
    if (n == 0) n = 1;
    p = calloc(n, sz);
    if (!p) die("out of memory (%zu x %zu bytes)", n, sz);
    return p;
}

/* ------------------------------------------------------------------ PRNG */
typedef struct { uint64_t s; } rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    r->s = seed * 0xD6E8FEB86659FD93ULL + stream * 0xA0761D6478BD642FULL + 0x2545F4914F6CDD1DULL;
    (void)rng_next(r);
}

static uint64_t rng_u32(rng_t *r) { return rng_next(r) >> 32; }               /* [0, 2^32) */
static uint32_t rng_below(rng_t *r, uint32_t n) { return (uint32_t)((rng_u32(r) * n) >> 32); }
static uint64_t rng_below64(rng_t *r, uint64_t n) { return rng_next(r) % n; }

/* fixed point fractions in [0, 2^32) */
static uint64_t fp_pow(uint64_t u, int k)
{
    uint64_t x = u;
    while (--k > 0) x = (x * u) >> 32;
    return x;
}

static uint32_t lerp(uint32_t lo, uint32_t hi, uint64_t f)
{
    return lo + (uint32_t)(((uint64_t)(hi - lo) * f) >> 32);
}

static int wpick(rng_t *r, const uint32_t *w, int n)
{
    uint32_t tot = 0, x;
    int i;
    for (i = 0; i < n; i++) tot += w[i];
    x = rng_below(r, tot);
    for (i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

/* cumulative table for hot paths */
typedef struct { uint32_t cum[40]; int n; } ctab_t;

static void ctab_init(ctab_t *t, const uint32_t *w, int n)
{
    uint32_t c = 0;
    int i;
    t->n = n;
    for (i = 0; i < n; i++) { c += w[i]; t->cum[i] = c; }
}

static int ctab_pick(const ctab_t *t, rng_t *r)
{
    uint32_t x = rng_below(r, t->cum[t->n - 1]);
    int i = 0;
    while (x >= t->cum[i]) i++;
    return i;
}

static void shuffle_i32(rng_t *r, int32_t *a, size_t n)
{
    size_t i;
    for (i = n; i > 1; i--) {
        size_t j = (size_t)rng_below64(r, i);
        int32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* n category indices in exact proportion to w (largest remainder), shuffled */
static void quota_fill(rng_t *r, const uint32_t *w, int nw, int32_t *out, size_t n)
{
    uint64_t tot = 0, rem[16];
    size_t cnt[16], done = 0, i;
    int c;
    for (c = 0; c < nw; c++) tot += w[c];
    for (c = 0; c < nw; c++) {
        cnt[c] = (size_t)((uint64_t)n * w[c] / tot);
        rem[c] = (uint64_t)n * w[c] % tot;
        done += cnt[c];
    }
    while (done < n) {
        int best = 0;
        for (c = 1; c < nw; c++) if (rem[c] > rem[best]) best = c;
        cnt[best]++;
        rem[best] = 0;
        done++;
    }
    for (c = 0, i = 0; c < nw; c++) {
        size_t j;
        for (j = 0; j < cnt[c]; j++) out[i++] = c;
    }
    shuffle_i32(r, out, n);
}

/* ------------------------------------------------------------------ unique id set */
typedef struct { uint64_t *k; size_t mask; } idset_t;

static void idset_init(idset_t *s, size_t expect)
{
    size_t cap = 1024;
    while (cap < expect * 2 + 64) cap <<= 1;
    s->k = xcalloc(cap, sizeof(uint64_t));
    s->mask = cap - 1;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDULL;
    z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53ULL;
    return z ^ (z >> 33);
}

/* kind separates the id namespaces; returns 1 if newly added */
static int idset_add(idset_t *s, int kind, uint64_t v)
{
    uint64_t key = ((v + 1) << 4) | (uint64_t)kind;
    size_t h = (size_t)mix64(key) & s->mask;
    while (s->k[h]) {
        if (s->k[h] == key) return 0;
        h = (h + 1) & s->mask;
    }
    s->k[h] = key;
    return 1;
}

/* ------------------------------------------------------------------ output */
typedef struct {
    FILE *f;
    char *buf;
    size_t pos, cap;
    unsigned long long bytes, rows;
    char path[4096];
} out_t;

static char g_buf[1 << 22];

static void w_flush(out_t *o)
{
    if (o->pos && fwrite(o->buf, 1, o->pos, o->f) != o->pos)
        die("write error on %s: %s", o->path, strerror(errno));
    o->bytes += o->pos;
    o->pos = 0;
}

static void w_open(out_t *o, const char *dir, const char *sub, const char *name)
{
    int n = snprintf(o->path, sizeof o->path, "%s/%s/%s", dir, sub, name);
    if (n < 0 || (size_t)n >= sizeof o->path) die("path too long: %s/%s/%s", dir, sub, name);
    o->f = fopen(o->path, "wb");
    if (!o->f) die("cannot create %s: %s", o->path, strerror(errno));
    o->buf = g_buf;
    o->cap = sizeof g_buf;
    o->pos = 0;
    o->bytes = o->rows = 0;
}

static void w_close(out_t *o)
{
    w_flush(o);
    if (fflush(o->f) != 0 || ferror(o->f)) die("write error on %s: %s", o->path, strerror(errno));
    if (fclose(o->f) != 0) die("cannot close %s: %s", o->path, strerror(errno));
    o->f = NULL;
    fprintf(stderr, "%s: %llu rows, %llu bytes\n", o->path, o->rows, o->bytes);
}

/* every write reserves first; no single field is longer than 256 bytes */
static void w_need(out_t *o, size_t n) { if (o->pos + n > o->cap) w_flush(o); }

static void w_mem(out_t *o, const char *s, size_t n)
{
    w_need(o, n);
    memcpy(o->buf + o->pos, s, n);
    o->pos += n;
}

static void w_str(out_t *o, const char *s) { w_mem(o, s, strlen(s)); }

static void w_ch(out_t *o, char c)
{
    w_need(o, 1);
    o->buf[o->pos++] = c;
}

static void w_upper(out_t *o, const char *s)
{
    size_t n = strlen(s), i;
    w_need(o, n);
    for (i = 0; i < n; i++) {
        char c = s[i];
        o->buf[o->pos++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
}

static void w_u64(out_t *o, uint64_t v)
{
    char t[24];
    int n = 0;
    w_need(o, 24);
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) o->buf[o->pos++] = t[--n];
}

/* zero-padded fixed width */
static void w_pad(out_t *o, uint64_t v, int width)
{
    int i;
    w_need(o, (size_t)width);
    for (i = width - 1; i >= 0; i--) { o->buf[o->pos + (size_t)i] = (char)('0' + v % 10); v /= 10; }
    o->pos += (size_t)width;
}

/* header: BOM + names, no newline */
static void w_header(out_t *o, const char *h)
{
    w_mem(o, "\xEF\xBB\xBF", 3);
    w_str(o, h);
}

/* starts a data row (the newline goes before it: no trailing newline at EOF) */
static void w_row(out_t *o)
{
    w_ch(o, '\n');
    o->rows++;
}

/* RFC 4180: quote when the value contains a comma, quote or line break */
static void w_csv(out_t *o, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) { w_str(o, s); return; }
    w_ch(o, '"');
    for (; *s; s++) {
        if (*s == '"') w_ch(o, '"');
        w_ch(o, *s);
    }
    w_ch(o, '"');
}

/* ------------------------------------------------------------------ dates */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void w_date(out_t *o, int64_t day)          /* YYYY-MM-DD */
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    w_pad(o, (uint64_t)y, 4); w_ch(o, '-');
    w_pad(o, (uint64_t)m, 2); w_ch(o, '-');
    w_pad(o, (uint64_t)d, 2);
}

static void w_hms(out_t *o, int h, int mi, int s)   /* HH:MM:SS */
{
    w_pad(o, (uint64_t)h, 2); w_ch(o, ':');
    w_pad(o, (uint64_t)mi, 2); w_ch(o, ':');
    w_pad(o, (uint64_t)s, 2);
}

/* ------------------------------------------------------------------ word lists (made up) */
static const char *const FIRST[] = {
    "Abigail", "Adrian", "Agnes", "Alvin", "Amelia", "Arthur", "Beatrice", "Benedict", "Bianca",
    "Boris", "Camille", "Cedric", "Celeste", "Chester", "Clifford", "Cora", "Cyrus", "Daphne",
    "Declan", "Delia", "Desmond", "Edith", "Elias", "Eloise", "Emmett", "Esther", "Everett",
    "Felix", "Florence", "Frederick", "Gemma", "Gideon", "Greta", "Harlan", "Helena", "Horace",
    "Imogen", "Ira", "Isadora", "Jonas", "Josephine", "Jude", "Kit", "Lavinia", "Leopold",
    "Lillian", "Lionel", "Lucian", "Mabel", "Magnus", "Marguerite", "Maxwell", "Minerva",
    "Mortimer", "Nell", "Nolan", "Octavia", "Orson", "Ottilie", "Percival", "Philippa", "Quincy",
    "Rhoda", "Roland", "Rosalind", "Rupert", "Sabina", "Silas", "Sterling", "Tamsin", "Theodore",
    "Tobias", "Una", "Ursula", "Valentina", "Vaughn", "Wallace", "Winifred", "Xavier", "Yolanda",
    "Zachary", "Zora", "Ambrose", "Clement", "Dorian", "Elspeth", "Fern", "Hollis", "Ivo",
    "Juniper", "Kestrel", "Lorcan", "Marlowe", "Nerys", "Oswin", "Perpetua", "Reuben",
    "Seraphina", "Thaddeus", "Wilhelmina", "Alden", "Blair", "Corwin", "Dulcie", "Evander",
    "Fenella", "Garrick", "Hester", "Ignatius", "Jolene", "Lysander", "Marisol", "Niall",
    "Ophelia", "Piers", "Rowena", "Sybil", "Tristan", "Verity", "Wystan"
};
static const char *const LAST[] = {
    "Ashcroft", "Bellamy", "Blythe", "Brambleton", "Carrow", "Castellan", "Chadwick", "Colbourne",
    "Crowther", "Dalloway", "Darrow", "Delacroix", "Dunstan", "Eldridge", "Everly", "Fairweather",
    "Farrow", "Fenmore", "Galloway", "Gilchrist", "Greaves", "Hadley", "Halloran", "Hartwell",
    "Hawthorne", "Holbrook", "Huxley", "Iverson", "Jessup", "Kettering", "Kingsley", "Lachlan",
    "Langford", "Larkin", "Lyndon", "Mallory", "Marchetti", "Merrick", "Montague", "Moreland",
    "Nettleton", "Norwood", "Oakley", "Ormsby", "Pelham", "Penrose", "Prescott", "Quimby",
    "Ransome", "Redfern", "Rowntree", "Sallow", "Selwyn", "Shackleton", "Stanhope", "Strickland",
    "Sumner", "Tallis", "Thackeray", "Thorne", "Tolliver", "Truscott", "Underwood", "Vance",
    "Vesey", "Waverly", "Westbrook", "Whitcombe", "Winslow", "Wolcott", "Yates", "Yelverton",
    "Abernathy", "Blackburn", "Calloway", "Drummond", "Easton", "Fitzroy", "Grantham",
    "Harcourt", "Ingleby", "Kimball", "Lowell", "Marbury", "Nesbitt", "Oldfield", "Pickering",
    "Rathbone", "Sheridan", "Templeton", "Upton", "Vickery", "Wexley", "Ashdown", "Brockway",
    "Danforth", "Ellery", "Fothergill", "Goodall", "Hollister", "Jardine", "Kirkland", "Lockwood",
    "Maddox", "Northrup", "Pendleton", "Quarles", "Radley", "Sinclair", "Trowbridge", "Varney",
    "Whitaker"
};
/* generic USPS-style street suffixes (U1 streets, U2 house_supp) */
static const char *const SUFFIX[] = {
    "Alley", "Annex", "Arcade", "Bayou", "Bend", "Bluff", "Bluffs", "Branch", "Brook", "Brooks",
    "Bypass", "Camp", "Canyon", "Cape", "Causeway", "Center", "Centers", "Circle", "Cliff",
    "Cliffs", "Common", "Corner", "Corners", "Course", "Cove", "Coves", "Creek", "Crest",
    "Crossing", "Crossroad", "Dale", "Dam", "Divide", "Drive", "Drives", "Estate", "Estates",
    "Expressway", "Extension", "Falls", "Ferry", "Field", "Fields", "Flat", "Flats", "Ford",
    "Fords", "Forest", "Forge", "Fork", "Forks", "Fort", "Freeway", "Garden", "Gardens",
    "Gateway", "Glen", "Glens", "Green", "Grove", "Groves", "Harbor", "Haven", "Heights",
    "Highway", "Hill", "Hills", "Hollow", "Inlet", "Island", "Islands", "Isle", "Junction",
    "Key", "Keys", "Knoll", "Knolls", "Lake", "Lakes", "Landing", "Lane", "Light", "Lights",
    "Loaf", "Lock", "Locks", "Lodge", "Loop", "Mall", "Manor", "Meadow", "Meadows", "Mews",
    "Mill", "Mills", "Mission", "Motorway", "Mount", "Mountain", "Mountains", "Neck",
    "Orchard", "Oval", "Overpass", "Park", "Parks", "Parkway", "Pass", "Passage", "Path", "Pike",
    "Pine", "Pines", "Plain", "Plains", "Plaza", "Point", "Points", "Port", "Ports", "Prairie",
    "Radial", "Ramp", "Ranch", "Rapid", "Rapids", "Rest", "Ridge", "River", "Road", "Roads",
    "Route", "Row", "Rue", "Run", "Shoal", "Shore", "Shores", "Skyway", "Spring", "Springs",
    "Spur", "Spurs", "Square", "Squares", "Station", "Stravenue", "Stream", "Street",
    "Streets", "Summit", "Terrace", "Throughway", "Trace", "Track", "Trafficway", "Trail",
    "Tunnel", "Turnpike", "Underpass", "Union", "Unions", "Valley", "Valleys", "Via",
    "Viaduct", "View", "Views", "Village", "Villages", "Ville", "Vista", "Walk", "Walks",
    "Wall", "Way", "Ways", "Well", "Wells"
};
static const char *const CITY_PRE[] = { "North", "East", "West", "South", "New", "Lake", "Port" };
static const char *const CITY_SUF[] = {
    "town", "ton", "ville", "land", "berg", "burgh", "borough", "bury", "view", "port", "mouth",
    "stad", "furt", "chester", "fort", "haven", "side", "shire"
};
/* utility2 street name parts */
static const char *const ST_PRE[] = {
    "Amber", "Ash", "Aspen", "Bay", "Bramble", "Briar", "Cedar", "Clover", "Copper", "Cypress",
    "Elm", "Fern", "Fox", "Glen", "Golden", "Hazel", "Heather", "Holly", "Iron", "Juniper",
    "Laurel", "Linden", "Maple", "Meadow", "Mill", "Oak", "Pebble", "Pine", "Poplar", "Quail",
    "Raven", "Rose", "Sage", "Spruce", "Stone", "Summer", "Thistle", "Timber", "Walnut",
    "Willow", "Wren", "Birch", "Alder", "Chestnut", "Larch"
};
static const char *const ST_ROOT[] = {
    "brook", "crest", "dale", "field", "gate", "hurst", "land", "leaf", "mere", "moor", "ridge",
    "side", "vale", "view", "wood", "haven", "stone", "bend", "wick", "ford"
};
static const char *const ST_ADJ[] = {
    "Autumn", "Blue", "Cold", "Deer", "Eagle", "Falcon", "Green", "Hidden", "Misty", "Quiet",
    "Rolling", "Shady", "Silver", "Still", "Sunny", "Twin", "Whispering", "Winding", "Old",
    "Lantern", "Harvest", "Morning", "Copper", "Bright", "Tall", "Hawk", "Gentle", "Lone"
};
static const char *const ST_NOUN[] = {
    "Acres", "Brook", "Creek", "Glade", "Harbor", "Hills", "Hollow", "Knoll", "Meadow",
    "Orchard", "Pines", "Point", "Ridge", "Springs", "Valley", "Woods", "Fields", "Crossing",
    "Timbers", "Oaks", "Cove", "Trail", "Pond", "Bluff"
};
/* possessive forms carry a typographic apostrophe (U+2019), as the real files do */
static const char *const ST_POSS[] = {
    "Tanner\xE2\x80\x99" "s", "Weaver\xE2\x80\x99" "s", "Cooper\xE2\x80\x99" "s",
    "Pilot\xE2\x80\x99" "s", "Fletcher\xE2\x80\x99" "s"
};
static const char *const ST_TYPE[] = {
    "Drive", "Lane", "Road", "Street", "Avenue", "Court", "Boulevard", "Terrace", "Way",
    "Circle", "Path", "Trail"
};
static const uint32_t ST_TYPE_W[] = { 315, 256, 238, 36, 36, 35, 16, 14, 11, 5, 4, 1 };
static const char *const SUPP_UNIT[] = { "Unit", "Apt", "Bldg", "Suite", "Lot" };
static const char *const SUPP_SIDE[] = { "Rear", "Side", "Upper", "Lower", "Annex", "Basement" };

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define PICK(r, a) ((a)[rng_below((r), (uint32_t)NELEM(a))])

static const char *pick_name(rng_t *r)
{
    return rng_below(r, 2) ? PICK(r, FIRST) : PICK(r, LAST);
}

/* city: "Ameliaport", "North Cedric", "Lake Hartwellton" */
static void make_city(rng_t *r, char *buf, size_t n)
{
    /* one PRNG draw per statement: argument evaluation order is unspecified in C */
    uint32_t k = rng_below(r, 100);
    const char *a, *b, *c;
    if (k < 49) {
        a = pick_name(r);
        b = PICK(r, CITY_SUF);
        snprintf(buf, n, "%s%s", a, b);
    } else if (k < 90) {
        a = PICK(r, CITY_PRE);
        b = PICK(r, FIRST);
        snprintf(buf, n, "%s %s", a, b);
    } else {
        a = PICK(r, CITY_PRE);
        b = pick_name(r);
        c = PICK(r, CITY_SUF);
        snprintf(buf, n, "%s %s%s", a, b, c);
    }
}

/* ------------------------------------------------------------------ scale */
static uint64_t g_scale;   /* millionths */

static uint64_t sc(uint64_t n)     /* round(n * scale) */
{
    return (n * g_scale + SCALE_ONE / 2) / SCALE_ONE;
}

static uint64_t sc_min(uint64_t n, uint64_t lo)
{
    uint64_t v = sc(n);
    return v < lo ? lo : v;
}

static int parse_scale(const char *s, uint64_t *out)
{
    uint64_t ip = 0, fp = 0, div = 1;
    int digits = 0, fd = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        ip = ip * 10 + (uint64_t)(*p - '0');
        if (ip > 100000) return -1;
        p++; digits++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (fd < 6) { fp = fp * 10 + (uint64_t)(*p - '0'); div *= 10; fd++; }
            p++; digits++;
        }
    }
    if (*p != '\0' || digits == 0) return -1;
    while (div < SCALE_ONE) { fp *= 10; div *= 10; }
    *out = ip * SCALE_ONE + fp;
    return 0;
}

static void mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path), i;
    if (n == 0 || n >= sizeof buf) die("bad output directory '%s'", path);
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                die("cannot create directory %s: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
}

/* =================================================================== utility1 */
static const char *const U1_CH[] = {
    "KWH Net 15 Minute Interval Read Interval",
    "KVARH 5 Minute Interval Read Interval",
    "KWH 15 Minute Interval Read Interval",
    "KWH Received 5 Minute Interval Read Interval",
    "KWH 5 Minute Interval Read Interval"
};
static const int U1_CH_DUR[] = { 900, 300, 900, 300, 300 };
static const int U1_CH_VAL[] = { 0, 0, 1, 0, 1 };     /* quality VAL vs NV */
static const uint32_t U1_CH_W[] = { 44, 30, 10, 8, 8 };
enum { CH_NET = 0, CH_KVARH = 1, CH_KWH15 = 2, CH_RECV = 3, CH_KWH5 = 4 };

typedef struct {
    uint32_t n_sp, n_mA, n_mB, n_iv;
    uint32_t *sp_id;        /* 8-digit service point numbers */
    uint32_t *sp_zip;
    uint32_t *m_id;         /* 8-digit meter numbers (may start with 0); A group first */
} u1_t;

static void gen_u1_ids(u1_t *u, idset_t *ids, rng_t *r)
{
    uint32_t i, nz;
    uint32_t *zpool;
    u->n_sp = (uint32_t)sc_min(1039, 24);
    u->n_mA = (uint32_t)sc_min(142, 4);
    u->n_mB = (uint32_t)sc_min(148, 4);
    u->n_iv = (uint32_t)sc_min(211, 24);
    if (u->n_iv > u->n_sp) u->n_iv = u->n_sp;
    u->sp_id = xcalloc(u->n_sp, sizeof(uint32_t));
    u->sp_zip = xcalloc(u->n_sp, sizeof(uint32_t));
    u->m_id = xcalloc((size_t)u->n_mA + u->n_mB, sizeof(uint32_t));
    for (i = 0; i < u->n_sp; i++) {
        uint32_t v;
        do v = 10000000u + rng_below(r, 90000000u); while (!idset_add(ids, 1, v));
        u->sp_id[i] = v;
    }
    /* zips: ~63% the first five digits of the SP number, the rest from a shared pool */
    nz = u->n_sp / 3 + 4;
    zpool = xcalloc(nz, sizeof(uint32_t));
    for (i = 0; i < nz; i++) zpool[i] = 10000u + rng_below(r, 90000u);
    for (i = 0; i < u->n_sp; i++)
        u->sp_zip[i] = rng_below(r, 100) < 63 ? u->sp_id[i] / 1000 : zpool[rng_below(r, nz)];
    free(zpool);
    for (i = 0; i < u->n_mA + u->n_mB; i++) {
        uint32_t v;
        do v = rng_below(r, 100) == 0 ? rng_below(r, 10000000u) : 10000000u + rng_below(r, 90000000u);
        while (!idset_add(ids, 2, v));
        u->m_id[i] = v;
    }
}

static void write_u1_sp(const u1_t *u, const char *dir, rng_t *r)
{
    out_t o;
    uint32_t i;
    char city[128];
    const int64_t base = days_from_civil(2022, 5, 11);
    const int64_t lo = days_from_civil(2022, 5, 12), span = days_from_civil(2024, 10, 20) - lo;
    w_open(&o, dir, "utility1", "utility1_service_points.csv");
    w_header(&o, "SERVICE_POINT_ID,SERVICE_POINT_NUMBER,SERVICE_POINT_STREET,SERVICE_POINT_CITY,"
                 "SERVICE_POINT_ZIP,SERVICE_POINT_STATE,INSTALLED_AT,REMOVED_AT,CREATED,UPDATED");
    for (i = 0; i < u->n_sp; i++) {
        int64_t cr = base, up = base;
        uint32_t k = rng_below(r, 1000);
        if (k < 8) {                       /* bulk-loaded, touched later */
            up = base + 300 + rng_below(r, 600);
        } else if (k < 27) {               /* created later, maybe updated */
            cr = lo + (int64_t)rng_below(r, (uint32_t)span);
            up = rng_below(r, 4) == 0 ? cr : cr + 1 + rng_below(r, 60);
            if (rng_below(r, 6) == 0) up += 200 + rng_below(r, 200);
        }
        w_row(&o);
        w_str(&o, "SP-"); w_pad(&o, u->sp_id[i], 8); w_ch(&o, ',');
        w_pad(&o, u->sp_id[i], 8); w_ch(&o, ',');
        w_upper(&o, pick_name(r)); w_ch(&o, ' '); w_upper(&o, PICK(r, SUFFIX)); w_ch(&o, ',');
        make_city(r, city, sizeof city);
        w_upper(&o, city); w_ch(&o, ',');
        w_pad(&o, u->sp_zip[i], 5);
        w_str(&o, ",NY,,,");
        w_date(&o, cr); w_ch(&o, ',');
        w_date(&o, up);
    }
    w_close(&o);
}

/* ---- utility1 meter read log */
typedef struct { int mon, day, hh, mm, dur; uint32_t w; } cycle_t;
static const cycle_t U1_CYCLES[] = {      /* earlier estimation cycles (UTC) */
    { 7, 2, 23, 34, 29, 103 }, { 8, 1, 23, 45, 31, 104 }, { 8, 30, 23, 35, 30, 109 },
    { 10, 1, 14, 58, 33, 109 }, { 10, 31, 23, 36, 31, 110 }, { 10, 30, 23, 43, 31, 37 },
    { 9, 30, 23, 35, 33, 4 }, { 8, 29, 23, 34, 30, 4 }, { 10, 28, 23, 36, 33, 3 },
    { 7, 31, 23, 35, 31, 2 }
};
static const uint32_t U1_EST_DUR_W[] = { 50, 26, 24, 1 };          /* 32 33 34 29 */
static const int U1_EST_DUR[] = { 32, 33, 34, 29 };
static const int U1_ODD_DUR[] = { 5, 12, 24, 26, 28, 29, 30, 33, 34, 35 };
static const int U1_CO_DUR[] = { 28, 29, 31, 30, 59, 63, 34, 62, 57, 58, 66, 86, 120 };
static const uint32_t U1_CO_DUR_W[] = { 583, 333, 75, 24, 18, 12, 10, 8, 2, 1, 1, 1, 1 };
static const uint32_t U1_CO_HOUR_W[] = { 67, 148, 192, 128, 119, 181, 146, 87 };  /* 13..20 */

static uint32_t u1_est_value(rng_t *r)
{
    uint32_t k = rng_below(r, 1000);
    uint64_t u = rng_u32(r);
    if (k < 23) return 0;
    if (k < 33) return lerp(180, 4500, fp_pow(u, 3));
    return lerp(1, 172, (u + fp_pow(u, 2)) / 2);
}

static uint32_t u1_co_value(rng_t *r)
{
    uint32_t k = rng_below(r, 1000);
    uint64_t u = rng_u32(r);
    if (k < 35) return 0;
    if (k < 60) return lerp(8400, 9999, u);               /* register roll-over-ish */
    if (k < 90) return lerp(180, 1200, fp_pow(u, 2));
    return lerp(1, 145, (u + fp_pow(u, 2)) / 2);
}

static void u1_meter_row(out_t *o, rng_t *r, uint32_t id, int bad, uint32_t p_est, uint32_t p_main)
{
    w_row(o);
    w_str(o, "MTR-");
    if (!bad) w_pad(o, id, 8);
    w_ch(o, ',');
    if (rng_below(r, 1000) < p_est) {                       /* Estimation */
        int dur;
        if (rng_below(r, 1000) < p_main) {
            w_str(o, rng_below(r, 100) < 82 ? "2024-11-25T20:40:00Z" : "2024-11-25T20:41:00Z");
            dur = U1_EST_DUR[wpick(r, U1_EST_DUR_W, NELEM(U1_EST_DUR_W))];
        } else {
            uint32_t w[NELEM(U1_CYCLES)];
            int i, c, mm;
            uint32_t j;
            for (i = 0; i < NELEM(U1_CYCLES); i++) w[i] = U1_CYCLES[i].w;
            c = wpick(r, w, NELEM(U1_CYCLES));
            mm = U1_CYCLES[c].mm;
            j = rng_below(r, 10);
            if (j == 0 && mm < 59) mm++;
            else if (j == 1 && mm > 0) mm--;
            w_str(o, "2024-"); w_pad(o, (uint64_t)U1_CYCLES[c].mon, 2); w_ch(o, '-');
            w_pad(o, (uint64_t)U1_CYCLES[c].day, 2); w_ch(o, 'T');
            w_hms(o, U1_CYCLES[c].hh, mm, 0); w_ch(o, 'Z');
            dur = rng_below(r, 100) < 88 ? U1_CYCLES[c].dur + (rng_below(r, 5) == 0 ? 1 : 0)
                                         : U1_ODD_DUR[rng_below(r, NELEM(U1_ODD_DUR))];
        }
        w_ch(o, ',');
        w_u64(o, (uint64_t)dur); w_ch(o, ',');
        w_u64(o, u1_est_value(r));
        w_str(o, ",Estimation,Periodic");
    } else {                                                /* Company */
        int hh = 13 + wpick(r, U1_CO_HOUR_W, NELEM(U1_CO_HOUR_W));
        int mm = (int)rng_below(r, 60);
        if (rng_below(r, 1000) == 0) { hh = 21; mm = 0; }
        w_str(o, "2024-11-27T"); w_hms(o, hh, mm, 0); w_str(o, "Z,");
        w_u64(o, (uint64_t)U1_CO_DUR[wpick(r, U1_CO_DUR_W, NELEM(U1_CO_DUR_W))]); w_ch(o, ',');
        w_u64(o, u1_co_value(r));
        w_str(o, ",Company,Periodic");
    }
}

static void write_u1_meters(const u1_t *u, const char *dir, rng_t *r)
{
    /* The log is a series of passes over two meter groups: group A (read 7 times, the
     * meters that also show up in the interval export) and group B (12 full passes plus
     * a few passes over a tail of the group). One bare "MTR-" id per ~2.8k rows. */
    out_t o;
    const uint32_t nA = u->n_mA, nB = u->n_mB;
    const uint32_t *A = u->m_id, *B = u->m_id + nA;
    /* pass plan: 'A' full A pass, 'B' full B pass, digits = B tail pass (fraction) */
    static const char plan[] = "AAAAAAB1BB2BBB3BBBBBBA";
    static const uint32_t tail_pm[] = { 0, 47, 120, 310 };   /* per-mille of group B */
    /* per-pass share of Estimation rows (per mille); all-estimation passes use the
     * main estimation run almost exclusively */
    static const uint32_t pass_est[] = { 700, 995, 995, 990, 520, 600, 560, 450, 500, 510, 350,
                                         780, 450, 600, 700, 880, 500, 400, 750, 600, 400, 800 };
    uint64_t total = 0, step, next_bad, row = 0;
    uint32_t n_bad = (uint32_t)sc_min(1, 1), bad_done = 0;
    size_t pi;
    w_open(&o, dir, "utility1", "utility1_meters.csv");
    w_header(&o, "meter_id,meter_timestamp,meter_duration,meter_value,meter_type,meter_category");
    for (pi = 0; plan[pi]; pi++) {
        if (plan[pi] == 'A') total += nA;
        else if (plan[pi] == 'B') total += nB;
        else total += (uint64_t)nB * tail_pm[plan[pi] - '0'] / 1000;
    }
    step = total / n_bad;
    next_bad = step / 3;
    for (pi = 0; plan[pi]; pi++) {
        const uint32_t *g = plan[pi] == 'A' ? A : B;
        uint32_t n = plan[pi] == 'A' ? nA : nB, first = 0, i;
        uint32_t p_est, p_main;
        if (plan[pi] >= '0' && plan[pi] <= '9') first = nB - (uint32_t)((uint64_t)nB * tail_pm[plan[pi] - '0'] / 1000);
        p_est = pass_est[pi % (sizeof pass_est / sizeof pass_est[0])];
        if (p_est >= 990) p_main = 995;
        else {
            p_est = p_est - 40 + rng_below(r, 81);
            p_main = 350 + rng_below(r, 500);
        }
        for (i = first; i < n; i++) {
            u1_meter_row(&o, r, g[i], 0, p_est, p_main);
            row++;
            if (bad_done < n_bad && row >= next_bad) {
                u1_meter_row(&o, r, 0, 1, 0, 0);
                bad_done++;
                next_bad += step;
            }
        }
    }
    w_close(&o);
}

/* ---- utility1 interval export: blocks of consecutive reads */
typedef struct {
    int ch, start, len;        /* start: minutes after local midnight */
    int lut;                   /* export time: seconds after local midnight */
    uint16_t val[16];          /* thousandths (multiples of 3) */
} u1blk_t;

static void u1_make_block(rng_t *r, u1blk_t *b, int ch, int *kv_toggle)
{
    int step = U1_CH_DUR[ch] / 60, i, base, slots;
    b->ch = ch;
    b->len = 3 + (int)rng_below(r, 14);
    /* start between 04:15 and 06:50, aligned to the interval length, ending by ~08:15 */
    slots = (6 * 60 + 50 - (4 * 60 + 15)) / step;
    b->start = 4 * 60 + 15 + step * (int)rng_below(r, (uint32_t)slots + 1);
    while (b->start + b->len * step > 8 * 60 + 15 && b->start > 4 * 60 + 15) b->start -= step;
    b->lut = 9 * 3600 + 5 * 60 + (int)rng_below(r, 25 * 60);
    switch (ch) {
    case CH_KVARH:
        /* every other kVARh block reads all zero */
        base = (*kv_toggle ^= 1) ? 0 : 100 + (int)rng_below(r, 26);
        for (i = 0; i < 16; i++)
            b->val[i] = (uint16_t)(3 * (base ? base + (rng_below(r, 4) == 0 ? 8 : 0) : 0));
        break;
    case CH_RECV:
        base = rng_below(r, 7) == 0;
        for (i = 0; i < 16; i++) b->val[i] = (uint16_t)(3 * (base ? (int)rng_below(r, 4) : 0));
        break;
    case CH_NET: {
        static const int lv[] = { 3, 4, 12, 16, 50, 60 };
        base = lv[rng_below(r, 6)];
        for (i = 0; i < 16; i++) b->val[i] = (uint16_t)(3 * (base * (60 + (int)rng_below(r, 81)) / 100));
        break;
    }
    case CH_KWH15:
        base = 8 + (int)rng_below(r, 20);
        for (i = 0; i < 16; i++) {
            b->val[i] = (uint16_t)(3 * (base * (85 + (int)rng_below(r, 31)) / 100));
            if (rng_below(r, 6) == 0) base += base / 2 + 1;
        }
        break;
    default:   /* CH_KWH5 */
        for (i = 0; i < 16; i++) b->val[i] = (uint16_t)(3 * (2 + (int)rng_below(r, 3)));
        break;
    }
}

static void w_u1_value(out_t *o, unsigned v)   /* thousandths -> "0", "0.336", "0.36", "1.2" */
{
    unsigned ip = v / 1000, fp = v % 1000;
    w_u64(o, ip);
    if (fp) {
        char t[4];
        int n = 3;
        t[0] = (char)('0' + fp / 100); t[1] = (char)('0' + fp / 10 % 10); t[2] = (char)('0' + fp % 10);
        while (n > 0 && t[n - 1] == '0') n--;
        w_ch(o, '.');
        w_mem(o, t, (size_t)n);
    }
}

static void u1_iv_row(out_t *o, uint32_t sp, uint32_t mtr, int ch, int minute, unsigned val, int lut)
{
    w_row(o);
    w_str(o, "SP-"); w_pad(o, sp, 8);
    w_str(o, ",MTR-"); w_pad(o, mtr, 8); w_ch(o, ',');
    w_str(o, U1_CH[ch]); w_ch(o, ',');
    w_u64(o, (uint64_t)U1_CH_DUR[ch]); w_ch(o, ',');
    w_u1_value(o, val);
    w_str(o, U1_CH_VAL[ch] ? ",VAL," : ",NV,");
    w_str(o, "2025-01-30T"); w_hms(o, minute / 60, minute % 60, 0); w_str(o, "-05:00,");
    w_str(o, "2025-01-30T"); w_hms(o, lut / 3600, lut / 60 % 60, lut % 60); w_str(o, "-05:00,null");
}

static void write_u1_intervals(const u1_t *u, const char *dir, rng_t *r)
{
    /* Batches of ~211 reads: a template of 9-12 export blocks, then up to three
     * compact replays of its first six blocks (same values, same export time) for new
     * service points. Every row is a new service point; meters cycle through group A.
     * After each batch two of its kWh reads get a kVARh twin (same SP, meter and
     * instant, different channel). */
    out_t o;
    uint32_t done = 0, next_sp = 0, next_m = 0;
    u1blk_t blk[12];
    typedef struct { uint32_t sp, m; int minute; } cand_t;
    cand_t cand[256];
    w_open(&o, dir, "utility1", "utility1_intervals.csv");
    w_header(&o, "service_delivery_point_id,meter_id,channel,duration,value,quality,timestamp,"
                 "last_update_time,exported_at");
    while (done < u->n_iv) {
        int nb = 9 + (int)rng_below(r, 4), b, pass, ncand = 0, i, kv_level, kv_lut;
        int kv_toggle = (int)rng_below(r, 2);
        for (b = 0; b < nb; b++) {
            int ch = wpick(r, U1_CH_W, NELEM(U1_CH_W));
            if (b == 0 && rng_below(r, 2)) ch = CH_KVARH;
            if (b == 1 && blk[0].ch == CH_KVARH && ch == CH_KVARH) ch = CH_NET;
            u1_make_block(r, &blk[b], ch, &kv_toggle);
        }
        for (pass = 0; pass < 4 && done < u->n_iv; pass++) {
            int lastb = pass == 0 ? nb : (nb < 6 ? nb : 6);
            for (b = 0; b < lastb && done < u->n_iv; b++) {
                const u1blk_t *k = &blk[b];
                int from = 0, to = k->len, step = U1_CH_DUR[k->ch] / 60;
                if (pass > 0 && b == 0 && to > 5) from = to - 5;
                if (pass > 0 && b == lastb - 1 && to > 2) to = 2;
                for (i = from; i < to && done < u->n_iv; i++) {
                    uint32_t sp = u->sp_id[next_sp++], m = u->m_id[next_m++ % u->n_mA];
                    int minute = k->start + i * step;
                    u1_iv_row(&o, sp, m, k->ch, minute, k->val[i], k->lut);
                    done++;
                    if (k->ch != CH_KVARH && ncand < 256) {
                        cand[ncand].sp = sp; cand[ncand].m = m; cand[ncand].minute = minute;
                        ncand++;
                    }
                }
            }
        }
        /* kVARh twins of two kWh reads of this batch */
        kv_level = 100 + (int)rng_below(r, 26);
        kv_lut = 9 * 3600 + 20 * 60 + (int)rng_below(r, 10 * 60);
        for (i = 0; i < 2 && ncand > 0; i++) {
            int j = (int)rng_below(r, (uint32_t)ncand);
            u1_iv_row(&o, cand[j].sp, cand[j].m, CH_KVARH, cand[j].minute,
                      (unsigned)(3 * (kv_level + (rng_below(r, 4) == 0 ? 8 : 0))), kv_lut);
            cand[j] = cand[--ncand];
        }
    }
    w_close(&o);
}

/* =================================================================== utility2 */
/* meter classes: (meters at scale 1, premises per meter, raw reads per meter, group) */
typedef struct { uint32_t n; uint8_t npre; uint16_t reads; uint8_t group; uint8_t keep; } mclass_t;
static const mclass_t U2_CLASSES[] = {
    { 109, 3, 63, 0, 1 }, { 47, 3, 54, 0, 1 },                                  /* busy, 3 premises */
    { 9, 2, 24, 1, 0 }, { 7, 2, 26, 1, 0 }, { 134, 2, 14, 1, 1 }, { 1, 2, 4, 1, 0 }, /* 2 premises */
    { 146, 3, 6, 2, 1 },                                                        /* quiet, 3 premises */
    { 26, 8, 154, 3, 1 }, { 94, 9, 183, 3, 1 }, { 20, 9, 184, 3, 0 }, { 5, 9, 200, 3, 0 },
    { 1, 8, 164, 3, 0 }, { 3, 6, 117, 3, 0 }, { 1, 5, 115, 3, 0 },               /* shared meters */
    { 6, 1, 2, 4, 0 }, { 136, 1, 29, 4, 1 }, { 2, 1, 26, 4, 0 }, { 3, 1, 23, 4, 0 } /* one premise */
};
#define U2_GROUPS 5

static const char *const U2_TYPES[] = { "KWH", "L+G Self-Cont Mesh", "Sentinel", "KV2", "AMI Cell", "KV2-R" };
static const uint32_t U2_TYPES_W[] = { 14120, 10960, 850, 480, 220, 20 };
/* premise repeat counts in the service point file */
static const uint32_t U2_REP_W[] = { 3, 3, 91, 41, 16, 41 };            /* 2..7 */
/* total appearances of a premise in the meters file */
static const uint32_t U2_APP_W[] = { 81, 139, 80, 3, 1, 2, 9, 6 };      /* 7..14 */

typedef struct {
    uint32_t np, no, nm;            /* premises in SP file, orphan premises, meters */
    uint32_t *prem_id;              /* np + no; orphans after the SP premises */
    uint64_t *m_id;
    uint8_t *m_npre, *m_group;
    uint16_t *m_reads;
    int32_t *m_pre;                 /* nm x 9 premise indices; [0] = first premise */
    int32_t *m_inst;                /* nm x 9 installed_at day numbers */
    uint64_t n_rows;                /* meters file rows */
} u2_t;

static int32_t u2_install_day(rng_t *r)
{
    uint32_t k = rng_below(r, 1000);
    if (k < 320) {                  /* early mass roll-out, peaking mid-year */
        int64_t lo = days_from_civil(2003, 1, 1);
        uint64_t u = rng_u32(r);
        u += rng_u32(r);
        u += rng_u32(r);
        u /= 3;
        return (int32_t)(lo + lerp(0, 700, u));
    }
    if (k < 730) {                  /* recent replacements, ramping up */
        int64_t lo = days_from_civil(2024, 1, 1);
        uint64_t u = rng_u32(r), v = rng_u32(r);
        return (int32_t)(lo + lerp(0, 422, u > v ? u : v));
    }
    return (int32_t)(days_from_civil(2002, 10, 7) + rng_below(r, 7760));
}

static void gen_u2(u2_t *u, idset_t *ids, rng_t *r)
{
    uint32_t i, c, np, no, nm = 0, nsingle = 0, norph_first, k;
    uint32_t cls_n[NELEM(U2_CLASSES)];
    uint32_t *first_cnt, *extra;
    int32_t *deck, *tmp;
    uint64_t need, have, dpos, dn;
    int g;

    np = u->np = (uint32_t)sc_min(195, 6);
    no = u->no = (uint32_t)sc_min(126, 3);
    for (c = 0; c < (uint32_t)NELEM(U2_CLASSES); c++) {
        cls_n[c] = (uint32_t)sc(U2_CLASSES[c].n);
        if (U2_CLASSES[c].keep && cls_n[c] == 0) cls_n[c] = 1;
        if (U2_CLASSES[c].npre > np + no) cls_n[c] = 0;     /* only for absurdly small scales */
        nm += cls_n[c];
        if (U2_CLASSES[c].npre == 1) nsingle += cls_n[c];
    }
    /* every orphan premise must head at least one single-premise meter */
    if (nsingle < no) { cls_n[NELEM(U2_CLASSES) - 3] += no - nsingle; nm += no - nsingle; nsingle = no; }
    u->nm = nm;
    u->prem_id = xcalloc((size_t)np + no, sizeof(uint32_t));
    u->m_id = xcalloc(nm, sizeof(uint64_t));
    u->m_npre = xcalloc(nm, 1);
    u->m_group = xcalloc(nm, 1);
    u->m_reads = xcalloc(nm, sizeof(uint16_t));
    u->m_pre = xcalloc((size_t)nm * 9, sizeof(int32_t));
    u->m_inst = xcalloc((size_t)nm * 9, sizeof(int32_t));

    for (i = 0; i < np + no; i++) {
        uint32_t v;
        do v = 10000000u + rng_below(r, 90000000u); while (!idset_add(ids, 3, v));
        u->prem_id[i] = v;
    }
    /* meters, in file order: grouped, classes in table order within a group */
    k = 0;
    for (g = 0; g < U2_GROUPS; g++)
        for (c = 0; c < (uint32_t)NELEM(U2_CLASSES); c++) {
            if (U2_CLASSES[c].group != g) continue;
            for (i = 0; i < cls_n[c]; i++, k++) {
                uint64_t v;
                /* ~0.3% of the meter numbers have 9 digits (always the third meter) */
                int nine = k == 2 || rng_below(r, 1000) < 3;
                do v = nine ? 100000000ULL + rng_below64(r, 900000000ULL)
                            : 1000000000ULL + rng_below64(r, 9000000000ULL);
                while (!idset_add(ids, 4, v));
                u->m_id[k] = v;
                u->m_npre[k] = U2_CLASSES[c].npre;
                u->m_reads[k] = U2_CLASSES[c].reads;
                u->m_group[k] = (uint8_t)g;
            }
        }
    /* first premises: ~95% of the single-premise meters sit on an orphan premise (each
     * orphan heads at least one); every other meter's first premise is a known premise,
     * dealt round-robin in file order so that all of them head some meter */
    norph_first = (uint32_t)(((uint64_t)nsingle * 952 + 500) / 1000);
    if (norph_first < no) norph_first = no;
    if (norph_first > nsingle) norph_first = nsingle;
    tmp = xcalloc(nsingle, sizeof(int32_t));
    for (i = 0; i < nsingle; i++) tmp[i] = (int32_t)(i < norph_first);
    shuffle_i32(r, tmp, nsingle);
    first_cnt = xcalloc((size_t)np + no, sizeof(uint32_t));
    {
        uint32_t ks = 0, kn = 0, ko = 0;
        for (k = 0; k < nm; k++) {
            int32_t p;
            if (u->m_npre[k] == 1 && tmp[ks++]) p = (int32_t)(np + ko++ % no);
            else p = (int32_t)(kn++ % np);
            u->m_pre[(size_t)k * 9] = p;
            first_cnt[p]++;
        }
    }
    free(tmp);
    /* the other appearances: a shuffled deck in which each premise appears so that its
     * total lands at 7..14, dealt to the meters' remaining slots (distinct per meter) */
    need = 0;
    for (k = 0; k < nm; k++) need += (uint64_t)u->m_npre[k] - 1;
    extra = xcalloc((size_t)np + no, sizeof(uint32_t));
    tmp = xcalloc((size_t)np + no, sizeof(int32_t));
    quota_fill(r, U2_APP_W, NELEM(U2_APP_W), tmp, (size_t)np + no);
    have = 0;
    for (i = 0; i < np + no; i++) {
        uint32_t t = 7 + (uint32_t)tmp[i];
        extra[i] = t > first_cnt[i] ? t - first_cnt[i] : 0;
        have += extra[i];
    }
    while (have > need) {
        i = rng_below(r, np + no);
        if (extra[i] > 0) { extra[i]--; have--; }
    }
    while (have < need) { extra[rng_below(r, np + no)]++; have++; }
    free(tmp);
    dn = need;
    deck = xcalloc((size_t)dn + 1, sizeof(int32_t));
    dpos = 0;
    for (i = 0; i < np + no; i++) {
        uint32_t j;
        for (j = 0; j < extra[i]; j++) deck[dpos++] = (int32_t)i;
    }
    shuffle_i32(r, deck, (size_t)dn);
    dpos = 0;
    for (k = 0; k < nm; k++) {
        int32_t *pre = u->m_pre + (size_t)k * 9;
        int p, q;
        for (p = 1; p < u->m_npre[k]; p++) {
            uint64_t j = dpos;
            int32_t cand = -1;
            for (; j < dn && j < dpos + 64; j++) {
                int clash = 0;
                for (q = 0; q < p; q++) if (pre[q] == deck[j]) { clash = 1; break; }
                if (!clash) { cand = deck[j]; deck[j] = deck[dpos]; deck[dpos] = cand; break; }
            }
            if (cand < 0) {            /* rare: nothing usable nearby; take any other premise */
                int clash;
                do {
                    cand = (int32_t)rng_below(r, np + no);
                    clash = 0;
                    for (q = 0; q < p; q++) if (pre[q] == cand) { clash = 1; break; }
                } while (clash);
            }
            pre[p] = cand;
            dpos++;
        }
    }
    free(deck);
    free(extra);
    free(first_cnt);
    /* installed_at: a different date for each appearance of a meter */
    for (k = 0; k < nm; k++) {
        int32_t *d = u->m_inst + (size_t)k * 9;
        int p, q;
        for (p = 0; p < u->m_npre[k]; p++) {
            int clash;
            do {
                d[p] = u2_install_day(r);
                clash = 0;
                for (q = 0; q < p; q++) if (d[q] == d[p]) clash = 1;
            } while (clash);
        }
    }
    u->n_rows = need + nm;
}

static void write_u2_sp(const u2_t *u, const u1_t *u1, const char *dir, rng_t *r)
{
    /* Seven passes over the premises; a premise repeated c times shows up in c of them,
     * each time with a different address. */
    static const uint8_t member[6][7] = {
        { 0, 1, 1, 0, 0, 0, 0 },      /* 2 */
        { 0, 1, 1, 1, 0, 0, 0 },      /* 3 */
        { 1, 1, 1, 1, 0, 0, 0 },      /* 4 */
        { 1, 1, 1, 1, 0, 1, 0 },      /* 5 */
        { 1, 1, 1, 1, 1, 1, 0 },      /* 6 */
        { 1, 1, 1, 1, 1, 1, 1 }       /* 7 */
    };
    out_t o;
    int32_t *rep = xcalloc(u->np, sizeof(int32_t));
    uint32_t i, pool_n = 400, n_rows = 0, row = 0, force_comma, force_quote;
    char (*pool)[64] = xcalloc(pool_n, 64);
    char city[128], supp[96];
    const int64_t created = days_from_civil(2016, 5, 9);
    int p;

    quota_fill(r, U2_REP_W, NELEM(U2_REP_W), rep, u->np);
    for (i = 0; i < u->np; i++)
        for (p = 0; p < 7; p++) n_rows += member[rep[i]][p];
    /* a fixed pool of street names, reused across premises */
    for (i = 0; i < pool_n; i++) {
        const char *ty = ST_TYPE[wpick(r, ST_TYPE_W, NELEM(ST_TYPE_W))], *a, *b;
        uint32_t k = rng_below(r, 1000);
        if (i % 133 == 7) {
            a = PICK(r, ST_POSS);
            snprintf(pool[i], 64, "%s %s", a, ty);
        } else if (k < 470) {
            a = PICK(r, ST_PRE);
            b = PICK(r, ST_ROOT);
            snprintf(pool[i], 64, "%s%s %s", a, b, ty);
        } else {
            a = PICK(r, ST_ADJ);
            b = PICK(r, ST_NOUN);
            snprintf(pool[i], 64, "%s %s %s", a, b, ty);
        }
    }
    force_comma = n_rows / 3;
    force_quote = n_rows / 2;
    w_open(&o, dir, "utility2", "utility2_service_points.csv");
    w_header(&o, "premise_id,created_date,premise_house_num,premise_street,premise_house_supp,"
                 "premise_city,premise_zip,premise_region");
    for (p = 0; p < 7; p++)
        for (i = 0; i < u->np; i++) {
            uint32_t k, digits;
            if (!member[rep[i]][p]) continue;
            w_row(&o);
            w_str(&o, "PREM-"); w_pad(&o, u->prem_id[i], 8); w_ch(&o, ',');
            w_date(&o, created); w_ch(&o, ',');
            k = rng_below(r, 1000);
            digits = k < 4 ? 1 : k < 37 ? 2 : k < 370 ? 3 : k < 720 ? 4 : 5;
            {
                static const uint32_t lo[] = { 0, 1, 10, 100, 1000, 10000 };
                w_u64(&o, lo[digits] + rng_below(r, 9 * lo[digits]));
            }
            w_ch(&o, ',');
            w_str(&o, pool[rng_below(r, pool_n)]); w_ch(&o, ',');
            k = rng_below(r, 10000);
            if (row == force_quote || (row != force_comma && k < 15)) {
                const char *unit = PICK(r, SUPP_UNIT);
                char letter = (char)('A' + rng_below(r, 8));
                snprintf(supp, sizeof supp, "%s \"%c\"", unit, letter);
            } else if (row == force_comma || k < 115) {
                const char *unit = PICK(r, SUPP_UNIT);
                unsigned num = 1 + rng_below(r, 40);
                const char *side = PICK(r, SUPP_SIDE);
                snprintf(supp, sizeof supp, "%s %u, %s", unit, num, side);
            } else if (k < 5480)
                supp[0] = '\0';
            else
                snprintf(supp, sizeof supp, "%s", PICK(r, SUFFIX));
            w_csv(&o, supp); w_ch(&o, ',');
            make_city(r, city, sizeof city);
            w_str(&o, city); w_ch(&o, ',');
            w_pad(&o, u1->sp_zip[rng_below(r, u1->n_sp)], 5);
            w_str(&o, ",NY");
            row++;
        }
    w_close(&o);
    free(pool);
    free(rep);
}

static void write_u2_meters(const u2_t *u, const char *dir, rng_t *r)
{
    /* per group: pass p lists every meter of the group that has a p-th premise, so the
     * first row of each meter (pass 0) names its first premise */
    out_t o;
    uint32_t k, lo = 0, n_ret = (uint32_t)sc_min(1, 1), ret_done = 0;
    uint64_t row = 0, ret_step = u->n_rows / n_ret, ret_next = ret_step * 7 / 10;
    int g;
    w_open(&o, dir, "utility2", "utility2_meters.csv");
    w_header(&o, "premise_id,meter_id,meter_number,meter_type,meter_status,meter_channel,"
                 "installed_at,removed_at,created,updated");
    for (g = 0; g < U2_GROUPS; g++) {
        uint32_t hi = lo;
        int p, maxp = 0;
        while (hi < u->nm && u->m_group[hi] == g) {
            if (u->m_npre[hi] > maxp) maxp = u->m_npre[hi];
            hi++;
        }
        for (p = 0; p < maxp; p++)
            for (k = lo; k < hi; k++) {
                int retired, odd;
                if (p >= u->m_npre[k]) continue;
                retired = ret_done < n_ret && row >= ret_next;
                odd = !retired && rng_below(r, 10000) < 98;
                w_row(&o);
                w_str(&o, "PREM-"); w_pad(&o, u->prem_id[u->m_pre[(size_t)k * 9 + p]], 8); w_ch(&o, ',');
                w_u64(&o, u->m_id[k]); w_ch(&o, ',');
                w_u64(&o, u->m_id[k]); w_ch(&o, ',');
                w_str(&o, U2_TYPES[wpick(r, U2_TYPES_W, NELEM(U2_TYPES_W))]);
                if (retired) {
                    w_str(&o, ",Retired,MT,,");
                    w_date(&o, days_from_civil(2016, 1, 1) + rng_below(r, 1800));
                    w_str(&o, "T00:00:00Z,");
                    ret_done++;
                    ret_next += ret_step;
                } else if (odd) {
                    w_str(&o, ",,,,,");
                } else {
                    w_str(&o, ",Customer,MT,");
                    w_date(&o, u->m_inst[(size_t)k * 9 + p]);
                    w_str(&o, "T00:00:00Z,,");
                }
                w_str(&o, "2025-03-04T09:30:42Z,2025-03-04T09:30:42Z");
                row++;
            }
        lo = hi;
    }
    w_close(&o);
}

/* channel codes and their share of raw reads */
static const uint32_t U2_CH[] = { 1, 10, 3, 11, 8, 9, 7, 15, 14, 13, 16, 23, 24 };
static const uint32_t U2_CH_W[] = { 32005, 7327, 1767, 1380, 147, 147, 129, 52, 52, 52, 52, 21, 21 };
static const uint32_t U2_Q[] = { 1, 3, 53, 4, 51, 2 };
static const uint32_t U2_Q_W[] = { 42644, 265, 144, 81, 12, 6 };
/* read dates: day offset from 2025-01-22; the first three days carry almost everything */
static const uint32_t U2_DAY_W[31] = {
    162560, 150620, 117130, 170, 40, 400, 50, 20, 140, 200, 80, 10, 20, 30, 2, 2, 2, 2, 2,
    20, 2, 2, 2, 2, 2, 2, 2, 20, 2, 2, 10
};

static uint32_t u2_value(rng_t *r, uint32_t ch)
{
    uint32_t k = rng_below(r, 100000);
    uint64_t u = rng_u32(r), u2 = fp_pow(u, 2);
    switch (ch) {
    case 1:
        if (k < 950) return 0;
        if (k < 4950) return lerp(105000, 999999, u2);
        return lerp(0, 102000, (9 * u2 + 11 * u) / 20);
    case 10:
        if (k < 630) return 0;
        if (k < 4130) return lerp(10000, 98000, fp_pow(u, 3));
        return lerp(0, 10200, (6 * u + 3 * u2 + fp_pow(u, 3)) / 10);
    case 3:
        if (k < 1600) return 0;
        if (k < 2700) return lerp(900000, 999999, u);
        if (k < 3700) return lerp(100000, 900000, u2);
        if (k < 21000) return lerp(88000, 100500, u);
        return lerp(0, 90000, (u + 3 * u2 + 6 * fp_pow(u, 3)) / 10);
    case 11:
        if (k < 3300) return 0;
        if (k < 4300) return lerp(4000, 10010, u);
        return lerp(0, 5000, (15 * u2 + 85 * fp_pow(u, 3)) / 100);
    case 7:
        if (k < 80000) return lerp(1, 100000, u);
        return lerp(100000, 999000, fp_pow(u, 3));
    case 8:
        if (k < 700) return 0;
        if (k < 95000) return lerp(1, 100000, u2);
        return lerp(100000, 221000, u);
    case 9:
        if (k < 700) return 0;
        if (k < 92000) return lerp(1, 120000, (u + u2) / 2);
        return lerp(120000, 430000, u2);
    case 13:
        if (k < 10000) return 0;
        if (k < 95000) return lerp(1, 60000, u2);
        return lerp(60000, 121000, u);
    case 14:
        if (k < 5000) return 0;
        if (k < 95000) return lerp(1, 400000, u2);
        return lerp(400000, 900000, u);
    case 15:
        if (k < 8000) return 0;
        return lerp(2, 55, u);
    case 16:
        if (k < 30000) return 0;
        if (k < 90000) return 1 + rng_below(r, 4);
        return lerp(5, 106, fp_pow(u, 3));
    case 23:
        if (k < 50000) return lerp(200, 7600, u2);
        return lerp(985000, 999999, u);
    default:   /* 24 */
        if (k < 70000) return lerp(2000, 46000, u);
        if (k < 90000) return lerp(0, 10000, u);
        return lerp(800000, 999999, u);
    }
}

static void write_u2_intervals(const u2_t *u, const char *dir, rng_t *r)
{
    /* Each meter has a fixed number of raw reads (by class). The export is a series of
     * B = max(reads) passes; every pass walks the meters in file order and takes the
     * meters that have a read scheduled in it: read j of a meter with R reads and phase
     * `off` falls in pass floor((j * B + off) / R), so a meter's reads are spread evenly
     * through the whole file and never land twice in one pass. A read's time of day
     * was cut off: its (date, channel) is drawn per read, mostly landing on one of a few
     * keys already seen, with a different value. */
    out_t o;
    ctab_t tch, tq, tday;
    char dstr[31][9];
    uint64_t total = 0, row = 0, prev_m = UINT64_MAX;
    uint32_t k, b, B = 0, *off, *next;
    int d, prev_ci = -1, prev_day = -1;
    ctab_init(&tch, U2_CH_W, NELEM(U2_CH_W));
    ctab_init(&tq, U2_Q_W, NELEM(U2_Q_W));
    ctab_init(&tday, U2_DAY_W, 31);
    for (d = 0; d < 31; d++) {
        int y, m, dd;
        civil_from_days(days_from_civil(2025, 1, 22) + d, &y, &m, &dd);
        snprintf(dstr[d], sizeof dstr[d], "%04d%02d%02d", y, m, dd);
    }
    for (k = 0; k < u->nm; k++) {
        total += u->m_reads[k];
        if (u->m_reads[k] > B) B = u->m_reads[k];
    }
    off = xcalloc(u->nm, sizeof(uint32_t));
    next = xcalloc(u->nm, sizeof(uint32_t));
    for (k = 0; k < u->nm; k++) off[k] = rng_below(r, B);
    w_open(&o, dir, "utility2", "utility2_intervals.csv");
    w_header(&o, "channel,duration,meter_id,quality,timestamp,value");
    for (b = 0; b < B; b++)
        for (k = 0; k < u->nm; k++) {
            const uint32_t R = u->m_reads[k];
            const uint64_t mid = u->m_id[k];
            int ci, day, tries, last;
            if (next[k] >= R || ((uint64_t)next[k] * B + off[k]) / R != b) continue;
            next[k]++;
            last = ++row == total;
            for (tries = 0; tries < 8; tries++) {
                ci = ctab_pick(&tch, r);
                /* some meters never report channel 11 (or 3): those reads go to channel 1 */
                if ((ci == 3 && mix64(mid) % 100 < 8) || (ci == 2 && mix64(mid + 7) % 100 < 3))
                    ci = 0;
                day = ctab_pick(&tday, r);
                if (last) day = 30;                 /* the window always ends 2025-02-21 */
                /* never two reads of one key back to back */
                if (mid != prev_m || ci != prev_ci || day != prev_day) break;
            }
            prev_m = mid; prev_ci = ci; prev_day = day;
            w_row(&o);
            w_u64(&o, U2_CH[ci]); w_str(&o, ",0,");
            w_u64(&o, mid); w_ch(&o, ',');
            w_u64(&o, U2_Q[ctab_pick(&tq, r)]); w_ch(&o, ',');
            w_mem(&o, dstr[day], 8); w_ch(&o, ',');
            w_u64(&o, u2_value(r, U2_CH[ci]));
        }
    w_close(&o);
    free(off);
    free(next);
}

/* =================================================================== utilities 3 and 4 */
/*
 * Two more utilities, each in its own layout, both over two weeks of local days around
 * the 2025 daylight-saving changes of America/New_York (2025-03-06 .. 03-12 and
 * 2025-10-30 .. 11-05): the spring-forward day 2025-03-09 has 23 hours, the fall-back
 * day 2025-11-02 has 25. Their usage is a made-up load per quarter-hour of elapsed time.
 */
#define U34_DAYS 7
static const int U34_WIN[2][3] = { { 2025, 3, 6 }, { 2025, 10, 30 } };

/* -v: anomalies in the quarter-hour series of utilities 3 and 4, for the validation
 * rules (VEE) to find. Decided by meter, window, day and quarter-hour alone (no PRNG
 * draw), so every other value is as without -v:
 *   zero run   meters k % 7 == 3, third day of the March window, quarter-hours 8..17
 *              (02:00-04:30 wall clock) read 0;
 *   flat line  meters k % 7 == 4, the spring-forward day, quarter-hours 40..59
 *              (10:00-15:00) read 0.5 kWh each;
 *   spike      meters k % 5 == 0, the fifth day of each window: a busy day (every
 *              quarter-hour 10 times its value, so that the day's third-largest
 *              read is above the spike rule's floor of 1 kWh) whose quarter-hour
 *              72 (18:00) reads 300 times its value;
 *   gap        meters k % 6 == 5, third day of the November window, quarter-hours
 *              20..27 (05:00-07:00) are missing. */
static int g_vee;
enum { VEE_NONE, VEE_ZERO, VEE_FLAT, VEE_BUSY, VEE_SPIKE, VEE_GAP };
static int u34_anomaly(uint32_t k, int w, int di, int q)
{
    if (!g_vee) return VEE_NONE;
    if (k % 6 == 5 && w == 1 && di == 2 && q >= 20 && q < 28) return VEE_GAP;
    if (k % 7 == 3 && w == 0 && di == 2 && q >= 8 && q < 18) return VEE_ZERO;
    if (k % 7 == 4 && w == 0 && di == 3 && q >= 40 && q < 60) return VEE_FLAT;
    if (k % 5 == 0 && di == 4) return q == 72 ? VEE_SPIKE : VEE_BUSY;
    return VEE_NONE;
}

static uint32_t u34_apply(int a, uint32_t wh)
{
    switch (a) {
    case VEE_ZERO: return 0;
    case VEE_FLAT: return 500;
    case VEE_BUSY: return wh * 10;
    case VEE_SPIKE: return wh * 300;
    default: return wh;
    }
}

/* day number of the n-th Sunday of a month */
static int64_t nth_sunday(int y, int m, int n)
{
    int64_t d = days_from_civil(y, m, 1);
    int wd = (int)(((d % 7) + 7 + 4) % 7);            /* 1970-01-01 was a Thursday; 0 = Sunday */
    return d + (7 - wd) % 7 + 7 * (n - 1);
}

/* UTC offset (seconds east) of US Eastern time at a UTC instant (seconds since 1970) */
static int64_t eastern_offset(int64_t utc)
{
    int y, m, d;
    int64_t start, end;
    civil_from_days(utc / 86400, &y, &m, &d);
    start = nth_sunday(y, 3, 2) * 86400 + 7 * 3600;   /* 02:00 EST */
    end = nth_sunday(y, 11, 1) * 86400 + 6 * 3600;    /* 02:00 EDT */
    return (utc >= start && utc < end) ? -4 * 3600 : -5 * 3600;
}

/* UTC instant of local midnight starting local day `day` (never in a change hour) */
static int64_t eastern_midnight(int64_t day)
{
    int64_t wall = day * 86400;
    return eastern_offset(wall + 5 * 3600) == -4 * 3600 ? wall + 4 * 3600 : wall + 5 * 3600;
}

static void w_mdy_hm(out_t *o, int64_t wall)         /* MM/DD/YYYY HH24:MI */
{
    int y, m, d;
    int64_t day = wall / 86400, s = wall % 86400;
    civil_from_days(day, &y, &m, &d);
    w_pad(o, (uint64_t)m, 2); w_ch(o, '/');
    w_pad(o, (uint64_t)d, 2); w_ch(o, '/');
    w_pad(o, (uint64_t)y, 4); w_ch(o, ' ');
    w_pad(o, (uint64_t)(s / 3600), 2); w_ch(o, ':');
    w_pad(o, (uint64_t)(s / 60 % 60), 2);
}

static void w_ymd_hms(out_t *o, int64_t utc)         /* YYYY-MM-DD HH24:MI:SS */
{
    w_date(o, utc / 86400); w_ch(o, ' ');
    w_hms(o, (int)(utc % 86400 / 3600), (int)(utc % 3600 / 60), (int)(utc % 60));
}

static void w_thousandths(out_t *o, uint64_t v)     /* 1234 -> "1.234" */
{
    w_u64(o, v / 1000); w_ch(o, '.');
    w_pad(o, v % 1000, 3);
}

/* CRLF row start (utility3 writes Windows line ends) */
static void w_row_crlf(out_t *o)
{
    w_str(o, "\r\n");
    o->rows++;
}

/* energy in Wh of one quarter-hour starting at local wall second `s` of the day */
static uint32_t u34_quarter_wh(rng_t *r, uint32_t base, int64_t s)
{
    int h = (int)(s / 3600);
    uint32_t v = base + rng_below(r, 40);
    if (h >= 17 && h <= 21) v += 120;
    else if (h >= 7 && h <= 9) v += 60;
    else if (h < 5) v -= base / 3;
    return v;
}

/* ---- utility3: long layout, other names, local times without offset, an assignment file */
typedef struct {
    uint32_t n;
    uint32_t *prem, *meter;
    uint32_t swap_meter;        /* replaces meter[1] at u3_swap */
    int64_t *installed;         /* UTC */
} u3_t;

/* meter[1] is exchanged on 2025-11-03 at 10:00 EST */
#define U3_SWAP_UTC (days_from_civil(2025, 11, 3) * 86400 + 15 * 3600)

static void gen_u3(u3_t *u, rng_t *r)
{
    uint32_t k;
    u->n = (uint32_t)sc_min(40, 3);
    u->prem = xcalloc(u->n, sizeof(uint32_t));
    u->meter = xcalloc(u->n, sizeof(uint32_t));
    u->installed = xcalloc(u->n, sizeof(int64_t));
    for (k = 0; k < u->n; k++) {
        u->prem[k] = 3000000u + k * 101u + rng_below(r, 100);
        u->meter[k] = 31000000u + k * 211u + rng_below(r, 200);
        u->installed[k] = (days_from_civil(2019, 1, 1) + rng_below(r, 2000)) * 86400
                          + 13 * 3600 + rng_below(r, 4) * 900;
    }
    u->swap_meter = 39000000u + rng_below(r, 1000000);
}

static void write_u3(const u3_t *u, const char *dir, rng_t *r)
{
    out_t o;
    uint32_t k;
    int w, di;
    char city[128];

    /* premises: semicolon-delimited, opened as epoch seconds */
    w_open(&o, dir, "utility3", "premises.csv");
    w_str(&o, "Premise;House No;Street;Unit;Town;Zip;State;Opened");
    for (k = 0; k < u->n; k++) {
        w_row_crlf(&o);
        w_str(&o, "P3-"); w_pad(&o, u->prem[k], 7); w_ch(&o, ';');
        w_u64(&o, 1 + rng_below(r, 900)); w_ch(&o, ';');
        w_str(&o, pick_name(r)); w_ch(&o, ' '); w_str(&o, PICK(r, ST_TYPE)); w_ch(&o, ';');
        if (k % 4 == 3) { w_str(&o, PICK(r, SUPP_UNIT)); w_ch(&o, ' '); w_u64(&o, 1 + rng_below(r, 20)); }
        w_ch(&o, ';');
        make_city(r, city, sizeof city);
        w_str(&o, city); w_ch(&o, ';');
        w_pad(&o, 12000u + rng_below(r, 2000), 5);
        w_str(&o, ";NY;");
        w_u64(&o, (uint64_t)((days_from_civil(2010, 1, 1) + rng_below(r, 3000)) * 86400 + 14 * 3600));
    }
    w_close(&o);

    /* meters: no service point; installed in local time */
    w_open(&o, dir, "utility3", "meters.csv");
    w_str(&o, "Meter Number,Serial No,Model,Form,Installed");
    for (k = 0; k <= u->n; k++) {
        uint32_t id = k < u->n ? u->meter[k] : u->swap_meter;
        int64_t inst = k < u->n ? u->installed[k] : U3_SWAP_UTC;
        w_row_crlf(&o);
        w_str(&o, "E"); w_pad(&o, id, 8); w_ch(&o, ',');
        w_str(&o, "SN"); w_pad(&o, (uint64_t)id * 7u % 100000000u, 8); w_ch(&o, ',');
        w_str(&o, rng_below(r, 2) ? "AX-2" : "REX2"); w_ch(&o, ',');
        w_str(&o, rng_below(r, 4) ? "2S" : "12S"); w_ch(&o, ',');
        w_mdy_hm(&o, inst + eastern_offset(inst));
    }
    w_close(&o);

    /* meter-to-premise assignments, UTC: one meter moved premises years ago, one is exchanged */
    w_open(&o, dir, "utility3", "meter_premise.csv");
    w_str(&o, "Meter Number,Premise,From (UTC),To (UTC)");
    for (k = 0; k < u->n; k++) {
        if (k == 0) {
            w_row_crlf(&o);
            w_str(&o, "E"); w_pad(&o, u->meter[0], 8); w_str(&o, ",P3-");
            w_pad(&o, u->prem[u->n - 1], 7); w_ch(&o, ',');
            w_ymd_hms(&o, days_from_civil(2016, 4, 1) * 86400 + 13 * 3600); w_ch(&o, ',');
            w_ymd_hms(&o, u->installed[0] - 86400);
        }
        w_row_crlf(&o);
        w_str(&o, "E"); w_pad(&o, u->meter[k], 8); w_str(&o, ",P3-");
        w_pad(&o, u->prem[k], 7); w_ch(&o, ',');
        w_ymd_hms(&o, u->installed[k]); w_ch(&o, ',');
        if (k == 1) w_ymd_hms(&o, U3_SWAP_UTC);
        if (k == 1) {
            w_row_crlf(&o);
            w_str(&o, "E"); w_pad(&o, u->swap_meter, 8); w_str(&o, ",P3-");
            w_pad(&o, u->prem[1], 7); w_ch(&o, ',');
            w_ymd_hms(&o, U3_SWAP_UTC); w_ch(&o, ',');
        }
    }
    w_close(&o);

    /* reads: local wall-clock starts without offset (the fall-back hour appears twice, in
     * order), minutes, channel, usage with its unit (some meters write Wh); the hourly
     * reactive channel gives neither length nor unit: its channel implies both */
    w_open(&o, dir, "utility3", "interval_reads.csv");
    w_str(&o, "Meter Number,Read Start,Minutes,Channel,Usage,UOM,Status");
    for (w = 0; w < 2; w++)
        for (di = 0; di < U34_DAYS; di++) {
            int64_t day = days_from_civil(U34_WIN[w][0], U34_WIN[w][1], U34_WIN[w][2]) + di;
            int64_t m0 = eastern_midnight(day), m1 = eastern_midnight(day + 1);
            for (k = 0; k < u->n; k++) {
                int part;
                for (part = 0; part < (k == 1 ? 2 : 1); part++) {
                    uint32_t id = part == 0 ? u->meter[k] : u->swap_meter;
                    int ch;
                    for (ch = 0; ch < (k % 2 == 0 ? 2 : 1); ch++) {
                        int64_t step = ch == 0 ? 900 : 3600, t;
                        for (t = m0; t < m1; t += step) {
                            int64_t wall = t + eastern_offset(t);
                            int a = ch == 0 ? u34_anomaly(k, w, di, (int)((t - m0) / 900)) : VEE_NONE;
                            if (k == 1 && (part == 0) != (t < U3_SWAP_UTC))
                                continue;
                            if (a == VEE_GAP) {
                                /* the draws of the read that never arrived */
                                (void)u34_quarter_wh(r, 60 + 15 * (k % 4), wall % 86400);
                                (void)rng_below(r, 20);
                                continue;
                            }
                            w_row_crlf(&o);
                            w_str(&o, "E"); w_pad(&o, id, 8); w_ch(&o, ',');
                            w_mdy_hm(&o, wall); w_ch(&o, ',');
                            if (ch == 0) {
                                uint32_t wh = u34_apply(a, u34_quarter_wh(r, 60 + 15 * (k % 4), wall % 86400));
                                w_str(&o, "15,KWH-15,");
                                if (k % 3 == 2) { w_u64(&o, wh); w_str(&o, ",Wh,"); }
                                else { w_thousandths(&o, wh); w_str(&o, ",kWh,"); }
                            } else {
                                w_str(&o, ",KVARH-60,");
                                w_thousandths(&o, 30 + rng_below(r, 50));
                                w_ch(&o, ',');
                                w_ch(&o, ',');
                            }
                            w_str(&o, rng_below(r, 20) ? "A" : "E");
                            /* a garbled copy of the first read of the window */
                            if (w == 0 && di == 1 && k == 0 && ch == 0 && t == m0) {
                                w_row_crlf(&o);
                                w_str(&o, "E"); w_pad(&o, id, 8); w_ch(&o, ',');
                                w_mdy_hm(&o, wall); w_str(&o, ",15,KWH-15,0.100,kWhh,A");
                            }
                        }
                    }
                    /* the exchanged meter reports once more, after its removal */
                    if (k == 1 && part == 0 && U3_SWAP_UTC >= m0 && U3_SWAP_UTC < m1) {
                        int64_t wall = U3_SWAP_UTC + eastern_offset(U3_SWAP_UTC);
                        w_row_crlf(&o);
                        w_str(&o, "E"); w_pad(&o, id, 8); w_ch(&o, ',');
                        w_mdy_hm(&o, wall); w_str(&o, ",15,KWH-15,0.001,kWh,E");
                    }
                }
            }
        }
    w_close(&o);
}

/* ---- utility4: wide layout, 96 quarter-hour columns per day, wall clock */
typedef struct {
    uint32_t n;
    uint32_t *sp, *meter;
} u4_t;

static void gen_u4(u4_t *u, rng_t *r)
{
    uint32_t k;
    u->n = (uint32_t)sc_min(40, 3);
    u->sp = xcalloc(u->n, sizeof(uint32_t));
    u->meter = xcalloc(u->n, sizeof(uint32_t));
    for (k = 0; k < u->n; k++) {
        u->sp[k] = 400000u + k * 97u + rng_below(r, 90);
        u->meter[k] = 4100000u + k * 113u + rng_below(r, 100);
    }
}

static void write_u4(const u4_t *u, const char *dir, rng_t *r)
{
    out_t o;
    uint32_t k;
    int w, di, c;
    char city[128];

    /* service points, last modified in UTC */
    w_open(&o, dir, "utility4", "service_points.csv");
    w_header(&o, "SPID,Address,City,ZIP,State,Last Modified (UTC)");
    for (k = 0; k < u->n; k++) {
        w_row(&o);
        w_str(&o, "SP4-"); w_pad(&o, u->sp[k], 6); w_ch(&o, ',');
        w_u64(&o, 1 + rng_below(r, 500)); w_ch(&o, ' ');
        w_str(&o, PICK(r, ST_PRE)); w_str(&o, PICK(r, ST_ROOT)); w_ch(&o, ' ');
        w_str(&o, PICK(r, ST_TYPE)); w_ch(&o, ',');
        make_city(r, city, sizeof city);
        w_csv(&o, city); w_ch(&o, ',');
        w_pad(&o, 13000u + rng_below(r, 1000), 5);
        w_str(&o, ",NY,");
        w_ymd_hms(&o, (days_from_civil(2024, 1, 1) + rng_below(r, 400)) * 86400 + rng_below(r, 86400));
    }
    w_close(&o);

    /* meters, installed as epoch seconds */
    w_open(&o, dir, "utility4", "meters.csv");
    w_header(&o, "Meter,SPID,Meter Type,Installed (epoch)");
    for (k = 0; k < u->n; k++) {
        w_row(&o);
        w_str(&o, "M4"); w_pad(&o, u->meter[k], 7); w_str(&o, ",SP4-");
        w_pad(&o, u->sp[k], 6); w_ch(&o, ',');
        w_str(&o, k % 3 == 1 ? "NET" : "AMI"); w_ch(&o, ',');
        w_u64(&o, (uint64_t)((days_from_civil(2018, 6, 1) + rng_below(r, 2000)) * 86400 + 15 * 3600));
    }
    w_close(&o);

    /* usage: one row per service point, meter, day and flow (DEL, and REC for solar
     * customers), with 96 wall-clock quarter-hour columns labelled by their end. On the
     * spring-forward day the skipped hour's four columns are empty; on the fall-back day
     * the repeated hour's four columns hold both occurrences added together. */
    w_open(&o, dir, "utility4", "usage_wide.csv");
    {
        char hdr[2048];
        size_t n = (size_t)snprintf(hdr, sizeof hdr, "SPID,Meter,Date,Flow,Unit");
        for (c = 1; c <= 96; c++)
            n += (size_t)snprintf(hdr + n, sizeof hdr - n, ",%02d:%02d", c * 15 / 60, c * 15 % 60);
        w_header(&o, hdr);
    }
    for (w = 0; w < 2; w++)
        for (di = 0; di < U34_DAYS; di++) {
            int64_t day = days_from_civil(U34_WIN[w][0], U34_WIN[w][1], U34_WIN[w][2]) + di;
            int64_t m0 = eastern_midnight(day), m1 = eastern_midnight(day + 1);
            int yy, mm, dd;
            civil_from_days(day, &yy, &mm, &dd);
            for (k = 0; k < u->n; k++) {
                int flow;
                for (flow = 0; flow < (k % 3 == 1 ? 2 : 1); flow++) {
                    uint64_t cell[96];
                    int filled[96];
                    int64_t t;
                    memset(cell, 0, sizeof cell);
                    memset(filled, 0, sizeof filled);
                    for (t = m0; t < m1; t += 900) {
                        int64_t s = t + eastern_offset(t) - day * 86400;
                        int col = (int)(s / 900);
                        uint32_t wh;
                        if (flow == 0)
                            wh = u34_apply(u34_anomaly(k, w, di, (int)((t - m0) / 900)),
                                           u34_quarter_wh(r, 70 + 10 * (k % 5), s));
                        else
                            wh = (s >= 7 * 3600 && s < 18 * 3600) ? 50 + rng_below(r, 200) : 0;
                        cell[col] += wh;
                        filled[col] = 1;
                        if (flow == 0 && u34_anomaly(k, w, di, (int)((t - m0) / 900)) == VEE_GAP)
                            filled[col] = 0;
                    }
                    /* one quarter-hour never arrived */
                    if (k == 0 && flow == 0 && w == 1 && di == 1) filled[41] = 0;
                    w_row(&o);
                    w_str(&o, "SP4-"); w_pad(&o, u->sp[k], 6); w_str(&o, ",M4");
                    w_pad(&o, u->meter[k], 7); w_ch(&o, ',');
                    w_pad(&o, (uint64_t)mm, 2); w_ch(&o, '/');
                    w_pad(&o, (uint64_t)dd, 2); w_ch(&o, '/');
                    w_pad(&o, (uint64_t)yy, 4);
                    w_str(&o, flow ? ",REC," : ",DEL,");
                    w_str(&o, k % 2 ? "Wh" : "kWh");
                    for (c = 0; c < 96; c++) {
                        w_ch(&o, ',');
                        if (!filled[c]) continue;
                        if (k % 2) w_u64(&o, cell[c]);
                        else w_thousandths(&o, cell[c]);
                    }
                }
            }
        }
    w_close(&o);
}

/* =================================================================== main */
static void usage(void)
{
    fprintf(stderr,
            "usage: %s [-s SCALE] [-S SEED] [-u LIST] OUTDIR\n"
            "  -s SCALE  positive decimal, default 1 (1 ~ the real sample; max 5000)\n"
            "  -S SEED   unsigned 64-bit integer, default 1\n"
            "  -u LIST   utilities to write, e.g. 1,2 (default 1,2,3,4)\n"
            "  -v        anomalies in utilities 3 and 4 for the validation rules (zero runs,\n"
            "            flat lines, spikes, gaps); nothing else changes\n"
            "writes OUTDIR/utility1/utility1_{service_points,meters,intervals}.csv,\n"
            "       OUTDIR/utility2/utility2_{service_points,meters,intervals}.csv,\n"
            "       OUTDIR/utility3/{premises,meters,meter_premise,interval_reads}.csv and\n"
            "       OUTDIR/utility4/{service_points,meters,usage_wide}.csv\n",
            PROG);
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    const char *dir = NULL;
    char sub[4200];
    int i;
    idset_t ids;
    rng_t r;
    u1_t u1;
    u2_t u2;
    u3_t u3;
    u4_t u4;
    int want[5] = { 0, 1, 1, 1, 1 };

    g_scale = SCALE_ONE;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (parse_scale(argv[++i], &g_scale) != 0 || g_scale == 0 || g_scale > SCALE_MAX) {
                fprintf(stderr, "%s: bad scale '%s' (positive decimal up to 5000)\n", PROG, argv[i]);
                usage();
            }
        } else if (strcmp(argv[i], "-S") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            uint64_t v = 0;
            if (!*s) usage();
            for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) {
                    fprintf(stderr, "%s: bad seed '%s'\n", PROG, argv[i]);
                    usage();
                }
                v = v * 10 + (uint64_t)(*s - '0');
            }
            seed = v;
        } else if (strcmp(argv[i], "-u") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            memset(want, 0, sizeof want);
            for (; *s; s++) {
                if (*s >= '1' && *s <= '4') want[*s - '0'] = 1;
                else if (*s != ',') {
                    fprintf(stderr, "%s: bad utility list '%s'\n", PROG, argv[i]);
                    usage();
                }
            }
        } else if (strcmp(argv[i], "-v") == 0) {
            g_vee = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage();
        } else if (!dir) {
            dir = argv[i];
        } else {
            usage();
        }
    }
    if (!dir) usage();

    mkdir_p(dir);
    for (i = 1; i <= 4; i++) {
        if (!want[i]) continue;
        snprintf(sub, sizeof sub, "%s/utility%d", dir, i);
        mkdir_p(sub);
    }

    idset_init(&ids, (size_t)sc_min(2500, 2500));
    memset(&u1, 0, sizeof u1);
    memset(&u2, 0, sizeof u2);

    rng_seed(&r, seed, 1); gen_u1_ids(&u1, &ids, &r);
    rng_seed(&r, seed, 2); gen_u2(&u2, &ids, &r);

    rng_seed(&r, seed, 3); gen_u3(&u3, &r);
    rng_seed(&r, seed, 4); gen_u4(&u4, &r);

    if (want[1]) {
        rng_seed(&r, seed, 11); write_u1_sp(&u1, dir, &r);
        rng_seed(&r, seed, 12); write_u1_meters(&u1, dir, &r);
        rng_seed(&r, seed, 13); write_u1_intervals(&u1, dir, &r);
    }
    if (want[2]) {
        rng_seed(&r, seed, 21); write_u2_sp(&u2, &u1, dir, &r);
        rng_seed(&r, seed, 22); write_u2_meters(&u2, dir, &r);
        rng_seed(&r, seed, 23); write_u2_intervals(&u2, dir, &r);
    }
    if (want[3]) { rng_seed(&r, seed, 31); write_u3(&u3, dir, &r); }
    if (want[4]) { rng_seed(&r, seed, 41); write_u4(&u4, dir, &r); }
    return 0;
}
