/* SPDX-License-Identifier: MIT */
/*
 * regex.c - the one file that includes <pcre2.h>.
 *
 * Each rx owns its compiled code and a match context carrying the match and depth limits;
 * the context is made by the first match: a question runs a few dozen of a knowledge
 * base's patterns, and making them for all cost more than those matches. The limits
 * are per pattern, not process-wide: two knowledge bases in one process share nothing.
 *
 * The patterns of one store (rx_stored: a knowledge base's, read from its compiled cache)
 * share one match-data block, which remembers whose match it holds, so that rx_group
 * reads the groups of the last rx_find of that pattern. PCRE2 keeps its backtracking
 * heap, 20 KB at least, in the block: one block per pattern that ran was 2 MB of a
 * question's memory. A stored pattern is decoded from the store's bytes the first time it
 * is used: a question runs a few dozen of some two thousand, and decoding them all was
 * most of the cache's cost and 2.4 MB of memory. The store also holds its patterns
 * themselves, RX_CHUNK to an allocation, freed with the store once its last pattern is:
 * a warm start makes some three thousand and frees them at exit.
 *
 * JIT compilation waits until a pattern has been used RX_JIT_AFTER times, or is given a
 * subject of RX_JIT_SUBJECT bytes or more. A knowledge base holds hundreds of alias
 * patterns and one question runs each of them over a few hundred bytes: there,
 * JIT-compiling every pattern costs more than interpreting all the matches (it was half of
 * the start-up time). A batch run reuses each pattern on many texts and gets the JIT for
 * all but its first few. A long text pays for it at once: JIT-compiling a pattern costs
 * about what interpreting it over 4 KB does, and the JIT then scans some three times
 * faster (a 200 KB question: 3.1 s interpreted, 1.0 s with the JIT). Where JIT is
 * unavailable the interpreter simply goes on.
 *
 * The JIT honours the match limit but not the depth limit: it runs on a stack of its own
 * and stops when that is full. A match stopped there is run again by the interpreter,
 * which applies the depth limit the caller asked for.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "regex.h"
#include "rxlit.h"

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_JIT_AFTER 16
#define RX_JIT_SUBJECT 4096
#define RX_CHUNK 256

/* A match-data block and the patterns that share it. */
typedef struct {
	pcre2_match_data *md;   /* NULL until the first match */
	const rx *owner;        /* whose match md holds */
	uint32_t pairs;         /* ovector pairs: 1 + the most groups of a pattern */
	size_t refs;            /* patterns sharing it */
} rx_md;

/* What the last rx_find left behind. Kept apart from the rx so that rx_find can take a
 * const pattern. */
typedef struct {
	rx_md *md;
	pcre2_match_context *mctx;      /* NULL until the first match */
	int rc;                 /* the last pcre2_match result; > 0 after a match */
	uint32_t uses;          /* matches run so far, up to RX_JIT_AFTER */
} rx_last;

/* Where patterns encoded one by one (rx_encode) are read from when first used. */
struct rx_store {
	const unsigned char *head;      /* what every pattern's stream begins with */
	size_t headlen;
	uint64_t (*hash)(const void *, size_t);
	bool (*copy)(void *, unsigned char *, const unsigned char *, size_t);
	void (*damaged)(void *);
	void *ctx;
	bool sources_bad;       /* rx_store_distrust_sources: never compile a source */
	rx_md *md;              /* shared by the store's patterns */
	size_t refs;            /* the store's owner and each of its patterns */
	struct rx_chunk *chunks;        /* the blocks of its patterns, the newest first */
};

struct rx {
	pcre2_code *code;       /* NULL until first used, for a pattern of a store */
	rx_last *last;
	/* words a text must hold for a match (rxlit.c): a compiled pattern's own (its block's,
	 * struct rx_own), a stored one's borrowed from its cache (rx_set_need); NULL: none */
	const rxlit *need;
	rx_store *store;        /* a stored pattern's: its bytes, their checksum, its source */
	const unsigned char *rest;
	size_t restlen;
	uint64_t sum;
	const char *source;
	uint32_t match_limit, depth_limit;
	bool in_chunk;          /* its block is its store's, freed with the store */
};

/* A pattern and what its last match left: one allocation, or one of a store's chunk. */
struct rx_block {
	rx r;
	rx_last last;
};

/* A compiled pattern's allocation: its block and the words it needs, which a stored
 * pattern borrows from its cache instead (a knowledge base has thousands of those). */
struct rx_own {
	struct rx_block b;
	rxlit need;
};

static const rxlit rx_no_need;  /* no words: every text may match */

/* RX_CHUNK blocks for a store's patterns, the next not yet given. */
typedef struct rx_chunk {
	struct rx_chunk *next;
	size_t used;
	struct rx_block b[RX_CHUNK];
} rx_chunk;

#define RX_OPTIONS (PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_UTF | PCRE2_UCP)

/* 1 + the number of groups of CODE: the ovector pairs a match of it fills. */
static uint32_t rx_pairs(const pcre2_code *code)
{
	uint32_t groups = 0;
	(void)pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
	return groups + 1;
}

/* A match-data record for patterns of up to PAIRS - 1 groups, no one's yet; NULL when out
 * of memory. */
static rx_md *rx_md_new(uint32_t pairs)
{
	rx_md *m = calloc(1, sizeof(*m));
	if (m)
		m->pairs = pairs;
	return m;
}

/* Drops a share of M (NULL allowed); the last frees it. */
static void rx_md_unref(rx_md *m)
{
	if (m && --m->refs == 0) {
		if (m->md)
			pcre2_match_data_free(m->md);
		free(m);
	}
}

/* Drops R's share of its match data. */
static void rx_md_drop(rx *r)
{
	rx_md_unref(r->last->md);
	r->last->md = NULL;
}

/* Writes PCRE2's message for error code CODE into ERR. */
static void rx_message(int code, char *err, size_t errsz)
{
	if (!err || errsz == 0)
		return;
	if (pcre2_get_error_message(code, (PCRE2_UCHAR *)err, errsz) < 0 && errsz > 1)
		snprintf(err, errsz, "regular expression error %d", code);
}

/* Wraps compiled CODE (taken, freed on failure) in a new rx matching within LIMITS (NULL
 * or 0 fields: the defaults, RX_*_LIMIT_DEFAULT: enough for any exam question, and a
 * runaway pattern stops there in well under a millisecond), with a share of match data MD
 * (NULL: its own), in block B (zeroed; NULL: one of its own). CODE may be NULL when MD is
 * given: a stored pattern, decoded later. Returns NULL when out of memory. */
static rx *rx_wrap(pcre2_code *code, const rx_limits *limits, rx_md *md, struct rx_block *b)
{
	/* one block: a knowledge base makes a rx for each of its patterns */
	bool own = b == NULL;
	struct rx_own *o = own ? calloc(1, sizeof(*o)) : NULL;
	if (own && !o) {
		pcre2_code_free(code);
		return NULL;
	}
	if (own)
		b = &o->b;
	rx *r = &b->r;
	r->code = code;
	r->last = &b->last;
	r->in_chunk = !own;
	if (!md && !(md = rx_md_new(rx_pairs(code)))) {
		pcre2_code_free(code);
		free(o);
		return NULL;
	}
	md->refs++;
	r->last->md = md;
	rx_set_limits(r, limits);
	return r;
}

void rx_set_limits(rx *r, const rx_limits *limits)
{
	r->match_limit = limits && limits->match ? limits->match : RX_MATCH_LIMIT_DEFAULT;
	r->depth_limit = limits && limits->depth ? limits->depth : RX_DEPTH_LIMIT_DEFAULT;
	if (r->last->mctx) {
		pcre2_set_match_limit(r->last->mctx, r->match_limit);
		pcre2_set_depth_limit(r->last->mctx, r->depth_limit);
	}
}

/* Compiles PATTERN caseless and UTF with Unicode properties (JIT comes later), to match
 * within LIMITS (see rx_wrap). Returns the
 * new rx (the caller frees it with rx_free), or NULL with a message in ERR, the byte
 * offset of the problem in *ERR_OFF (0 when out of memory) and errno ENOMEM (out of
 * memory) or EINVAL (a bad pattern). */
rx *rx_compile(const char *pattern, const rx_limits *limits, char *err, size_t errsz,
               size_t *err_off)
{
	if (err && errsz)
		err[0] = '\0';
	if (err_off)
		*err_off = 0;
	int code = 0;
	PCRE2_SIZE off = 0;
	/* DOTALL: a question's line breaks are wraps, so `.` crosses them as it crosses a
	 * space; sentences are bounded with `[^.?]`, not with the end of a line */
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, RX_OPTIONS,
	                              &code, &off, NULL);
	if (!c) {
		rx_message(code, err, errsz);
		if (err_off)
			*err_off = off;
		errno = code == PCRE2_ERROR_HEAP_FAILED ? ENOMEM : EINVAL;
		return NULL;
	}
	rx *r = rx_wrap(c, limits, NULL, NULL);
	if (r)
		(void)rx_set_source(r, pattern);    /* without it, the pattern just always runs */
	if (!r) {
		if (err && errsz)
			snprintf(err, errsz, "out of memory");
		errno = ENOMEM;
	}
	return r;
}

/* "PCRE2 VERSION DATE, link size N": what compiled patterns depend on besides the
 * options, which are fixed. */
const char *rx_build_id(char *buf, size_t size)
{
	char ver[64] = "";
	uint32_t link = 0;
	if (pcre2_config(PCRE2_CONFIG_VERSION, ver) < 0)
		ver[0] = '\0';
	(void)pcre2_config(PCRE2_CONFIG_LINKSIZE, &link);
	snprintf(buf, size, "PCRE2 %s, link size %u", ver, (unsigned)link);
	return buf;
}

static bool rx_ready(const rx *r);

/* Encodes R's compiled code as a PCRE2 stream of one pattern: *OUT is malloc'd (*LEN
 * bytes) and the caller frees it. Returns false when out of memory. A pattern not decoded
 * yet (a stored one that never ran) is decoded first. */
bool rx_encode(const rx *r, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!rx_ready(r))
		return false;
	const pcre2_code *codes[1] = { r->code };
	uint8_t *bytes = NULL;
	PCRE2_SIZE size = 0;
	if (pcre2_serialize_encode(codes, 1, &bytes, &size, NULL) < 0)
		return false;
	*out = malloc(size ? size : 1);
	if (*out) {
		memcpy(*out, bytes, size);
		*len = size;
	}
	pcre2_serialize_free(bytes);
	return *out != NULL;
}

rx_store *rx_store_new(const unsigned char *head, size_t headlen,
                       uint64_t (*hash)(const void *, size_t),
                       bool (*copy)(void *, unsigned char *, const unsigned char *, size_t),
                       void (*damaged)(void *), void *ctx)
{
	rx_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->md = rx_md_new(1);   /* widened by each pattern decoded (rx_ready) */
	if (!s->md) {
		free(s);
		return NULL;
	}
	s->md->refs = 1;        /* the store's own, dropped with it */
	s->head = head;
	s->headlen = headlen;
	s->hash = hash;
	s->copy = copy;
	s->damaged = damaged;
	s->ctx = ctx;
	s->refs = 1;
	return s;
}

/* Drops a reference to S; the last frees it. */
static void rx_store_unref(rx_store *s)
{
	if (!s || --s->refs > 0)
		return;
	rx_md_unref(s->md);
	while (s->chunks) {
		rx_chunk *c = s->chunks;
		s->chunks = c->next;
		free(c);
	}
	free(s);
}

void rx_store_distrust_sources(rx_store *s)
{
	if (s)
		s->sources_bad = true;
}

void rx_store_close(rx_store *s)
{
	if (!s)
		return;
	s->damaged = NULL;      /* its owner is gone */
	rx_store_unref(s);
}

rx *rx_stored(rx_store *s, const unsigned char *rest, size_t restlen, uint64_t sum,
              const char *source)
{
	if (!s || !source)
		return NULL;
	if (!s->chunks || s->chunks->used == RX_CHUNK) {
		rx_chunk *c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->next = s->chunks;
		c->used = 0;
		s->chunks = c;
	}
	struct rx_block *b = &s->chunks->b[s->chunks->used++];
	memset(b, 0, sizeof(*b));
	rx *r = rx_wrap(NULL, NULL, s->md, b);  /* no code until it is first used */
	if (!r)
		return NULL;
	r->store = s;
	s->refs++;
	r->rest = rest;
	r->restlen = restlen;
	r->sum = sum;
	r->source = source;
	return r;
}

bool rx_is_stored(const rx *r)
{
	return r && r->store;
}

/* Decodes the stream S->head + REST of one pattern, when REST still has checksum SUM;
 * NULL when it does not, is not a pattern of this PCRE2 build or memory ran out. */
static pcre2_code *rx_decode_one(const rx_store *s, const unsigned char *rest, size_t restlen,
                                 uint64_t sum)
{
	if (!s->hash || s->headlen > SIZE_MAX - restlen || s->headlen + restlen < 16)
		return NULL;
	unsigned char *buf = malloc(s->headlen + restlen);
	if (!buf)
		return NULL;
	memcpy(buf, s->head, s->headlen);
	bool got = !restlen || (s->copy ? s->copy(s->ctx, buf + s->headlen, rest, restlen)
	                                : (memcpy(buf + s->headlen, rest, restlen), true));
	pcre2_code *code = NULL;
	/* PCRE2's stream header: magic, version, configuration, number of codes */
	if (!got || s->hash(buf + s->headlen, restlen) != sum ||
	    pcre2_serialize_get_number_of_codes(buf) != 1 ||
	    pcre2_serialize_decode(&code, 1, buf, NULL) != 1)
		code = NULL;
	free(buf);
	return code;
}

/* Whether R has its compiled code, decoding a stored pattern the first time: from its
 * bytes when their checksum holds. Otherwise (the cache was damaged after it was opened,
 * which its owner hears of) the source is compiled again, which gives the same code,
 * when the source is a pattern and the owner still trusts the sources (it can say it
 * does not while it hears of the damage: rx_store_distrust_sources): a key with a byte 1
 * (kb_sections.c: a pattern with word families, which the key names by a hash) is not a
 * pattern, and such a pattern then fails every match, which the caller reports as it does
 * a limit reached. */
static bool rx_ready(const rx *cr)
{
	if (!cr)
		return false;
	if (cr->code)
		return true;
	rx *r = (rx *)cr;       /* every rx is made by malloc: decoding is not a change seen */
	rx_store *s = r->store;
	if (!s || !r->source)
		return false;
	pcre2_code *code = rx_decode_one(s, r->rest, r->restlen, r->sum);
	if (!code) {
		if (s->damaged)
			s->damaged(s->ctx);
		int err = 0;
		PCRE2_SIZE off = 0;
		if (!s->sources_bad && !strchr(r->source, '\x01'))
			code = pcre2_compile((PCRE2_SPTR)r->source, PCRE2_ZERO_TERMINATED, RX_OPTIONS,
			                     &err, &off, NULL);
		if (!code) {
			r->source = NULL;       /* no second try */
			return false;
		}
	}
	r->code = code;
	rx_md *m = r->last->md;
	uint32_t pairs = rx_pairs(code);
	if (pairs > m->pairs) {
		/* a block too narrow for it: the next match makes a wider one */
		if (m->md)
			pcre2_match_data_free(m->md);
		m->md = NULL;
		m->owner = NULL;
		m->pairs = pairs;
	}
	return true;
}

/* Frees R and everything it owns. NULL is allowed. */
void rx_free(rx *r)
{
	if (!r)
		return;
	/* most patterns never ran: nothing of theirs to free but the code */
	rx_md_drop(r);
	if (r->last->mctx)
		pcre2_match_context_free(r->last->mctx);
	pcre2_code_free(r->code);
	bool in_chunk = r->in_chunk;
	if (!in_chunk)
		rxlit_free(&((struct rx_own *)r)->need);
	rx_store_unref(r->store);       /* the last frees the chunks, and R's block with them */
	if (!in_chunk)
		free(r);
}

bool rx_set_source(rx *r, const char *pattern)
{
	if (r->in_chunk)
		return false;   /* a stored pattern's words come with it (rx_set_need) */
	rxlit *own = &((struct rx_own *)r)->need;
	rxlit_free(own);
	r->need = NULL;
	if (!rxlit_analyse(pattern, own))
		return false;
	r->need = own;
	return true;
}

const rxlit *rx_need(const rx *r)
{
	return r->need ? r->need : &rx_no_need;
}

void rx_set_need(rx *r, const rxlit *need)
{
	if (r->in_chunk)
		r->need = need;
}

bool rx_may_match(const rx *r, const char *lower, size_t len)
{
	return rxlit_may_match(rx_need(r), lower, len);
}

bool rx_may_match_in(const rx *r, rxlit_text *t)
{
	return rxlit_may_match_in(rx_need(r), t);
}

/* Matches R against SUBJECT[0..LEN) from OFFSET with PCRE2 options OPTS. Returns 1 with
 * the span in *M, 0 for no match, or the rx_error saying which limit was hit or that
 * PCRE2 failed otherwise (bad UTF-8, offset inside a character, no memory for the match
 * data of a first match): the caller treats the text as not matching and says so. */
static int rx_match(const rx *r, const char *subject, size_t len, size_t offset, rx_span *m,
                    uint32_t opts)
{
	if (!r || !subject || offset > len)
		return RX_ERR_FAILED;
	rx_last *l = r->last;
	if (!rx_ready(r)) {
		l->rc = PCRE2_ERROR_NOMEMORY;
		return RX_ERR_FAILED;
	}
	if (!l->mctx && (l->mctx = pcre2_match_context_create(NULL))) {
		pcre2_set_match_limit(l->mctx, r->match_limit);
		pcre2_set_depth_limit(l->mctx, r->depth_limit);
	}
	if (!l->md->md)
		l->md->md = pcre2_match_data_create(l->md->pairs, NULL);
	if (!l->mctx || !l->md->md) {
		l->rc = PCRE2_ERROR_NOMEMORY;
		return RX_ERR_FAILED;
	}
	if (r->last->uses < RX_JIT_AFTER && len - offset >= RX_JIT_SUBJECT)
		r->last->uses = RX_JIT_AFTER - 1;
	/* MLARCH_NO_JIT keeps the interpreter: valgrind cannot follow JIT code, whose vector
	 * loads read past the subject on purpose */
	if (r->last->uses < RX_JIT_AFTER && ++r->last->uses == RX_JIT_AFTER &&
	    !getenv("MLARCH_NO_JIT")) {
		/* A JIT failure (no JIT on this CPU, no executable memory) is not an error:
		 * the interpreter gives the same results, only slower. */
		(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	}
	pcre2_match_data *md = l->md->md;
	l->md->owner = r;
	int rc = pcre2_match(r->code, (PCRE2_SPTR)subject, len, offset, opts, md, l->mctx);
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(r->code, (PCRE2_SPTR)subject, len, offset, opts | PCRE2_NO_JIT,
		                 md, l->mctx);
	r->last->rc = rc;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT)
		return RX_ERR_MATCH_LIMIT;
	/* the heap that PCRE2 backtracks on grows with the depth: the depth limit bounds it */
	if (rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return RX_ERR_DEPTH_LIMIT;
	if (rc < 0)
		return RX_ERR_FAILED;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	if (m) {
		m->start = ov[0];
		m->end = ov[1];
	}
	return 1;
}

/* RFC 3629, which is what PCRE2 checks: the shortest form, no surrogates, nothing past
 * U+10FFFF. */
bool rx_utf8_valid(const char *subject, size_t len)
{
	const unsigned char *s = (const unsigned char *)subject;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp, min;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2;
			cp = c & 0x1F;
			min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3;
			cp = c & 0x0F;
			min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n;
	}
	return true;
}

int rx_find(const rx *r, const char *subject, size_t len, size_t offset, rx_span *m)
{
	return rx_match(r, subject, len, offset, m, 0);
}

/* PCRE2 checks the UTF-8 of the subject from OFFSET to its end on every call: over a long
 * text with many matches that check alone made matching quadratic (60,000 "EMR " took
 * half a minute). */
int rx_find_next(const rx *r, const char *subject, size_t len, size_t offset, rx_span *m)
{
	return rx_match(r, subject, len, offset, m, PCRE2_NO_UTF_CHECK);
}

/* The span of named group NAME in the last successful rx_find of R. Returns false when
 * there was no match, the group does not exist or it did not take part. */
bool rx_group(const rx *r, const char *name, rx_span *out)
{
	/* the shared block holds another pattern's match once that one ran */
	if (!r || !name || r->last->rc <= 0 || r->last->md->owner != r)
		return false;
	int n = pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)name);
	if (n < 0)
		return false;
	pcre2_match_data *md = r->last->md->md;
	uint32_t pairs = pcre2_get_ovector_count(md);
	if ((uint32_t)n >= pairs)
		return false;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	if (ov[2 * n] == PCRE2_UNSET)
		return false;
	if (out) {
		out->start = ov[2 * n];
		out->end = ov[2 * n + 1];
	}
	return true;
}

/* Whether R's pattern declares a named group NAME (for checking lexicon captures at load
 * time). */
bool rx_has_group(const rx *r, const char *name)
{
	return r && name && rx_ready(r) &&
	       pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)name) >= 0;
}
