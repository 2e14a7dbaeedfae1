/* SPDX-License-Identifier: MIT */
/*
 * regex.c - the one file that includes <pcre2.h>.
 *
 * Each rx owns its compiled code and a match context carrying the match and depth limits;
 * the context is made by the first match: a question runs a few dozen of a knowledge
 * base's patterns, and making them for all cost more than those matches. The limits
 * are per pattern, not process-wide: two knowledge bases in one process share nothing.
 *
 * The patterns decoded together (rx_deserialize: a knowledge base's) share one match-data
 * block, which remembers whose match it holds, so that rx_group reads the groups of the
 * last rx_find of that pattern. PCRE2 keeps its backtracking heap, 20 KB at least, in the
 * block: one block per pattern that ran was 2 MB of a question's memory.
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

struct rx {
	pcre2_code *code;
	uint32_t match_limit, depth_limit;
	rx_last *last;
	rxlit need;             /* words a text must hold for a match (rxlit.c) */
};

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

/* Drops R's share of its match data. */
static void rx_md_drop(rx *r)
{
	rx_md *m = r->last->md;
	if (m && --m->refs == 0) {
		if (m->md)
			pcre2_match_data_free(m->md);
		free(m);
	}
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
 * (NULL: its own). Returns NULL when out of memory. */
static rx *rx_wrap(pcre2_code *code, const rx_limits *limits, rx_md *md)
{
	/* one block: a knowledge base makes a rx for each of its patterns */
	struct rx_block {
		rx r;
		rx_last last;
	} *b = calloc(1, sizeof(*b));
	if (!b) {
		pcre2_code_free(code);
		return NULL;
	}
	rx *r = &b->r;
	r->code = code;
	r->last = &b->last;
	if (!md && !(md = rx_md_new(rx_pairs(code)))) {
		pcre2_code_free(code);
		free(b);
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
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	                              PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_UTF | PCRE2_UCP, &code,
	                              &off, NULL);
	if (!c) {
		rx_message(code, err, errsz);
		if (err_off)
			*err_off = off;
		errno = code == PCRE2_ERROR_HEAP_FAILED ? ENOMEM : EINVAL;
		return NULL;
	}
	rx *r = rx_wrap(c, limits, NULL);
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

/* Encodes the compiled patterns R[0..N) as one byte stream: *OUT is malloc'd (*LEN
 * bytes) and the caller frees it. Returns false when out of memory or N is 0. */
bool rx_serialize(rx *const *r, size_t n, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (n == 0 || n > INT32_MAX)
		return false;
	const pcre2_code **codes = malloc(n * sizeof(*codes));
	if (!codes)
		return false;
	for (size_t i = 0; i < n; i++)
		codes[i] = r[i]->code;
	uint8_t *bytes = NULL;
	PCRE2_SIZE size = 0;
	int32_t rc = pcre2_serialize_encode(codes, (int32_t)n, &bytes, &size, NULL);
	free(codes);
	if (rc < 0)
		return false;
	*out = malloc(size ? size : 1);
	if (*out) {
		memcpy(*out, bytes, size);
		*len = size;
	}
	pcre2_serialize_free(bytes);
	return *out != NULL;
}

/* Decodes N patterns that rx_serialize encoded into OUT[0..N) (each freed with rx_free).
 * Returns false, with nothing to free, when BUF is not N patterns of this PCRE2 build
 * (PCRE2 checks its own header: magic, version, code unit width, link size) or memory
 * runs out. PCRE2 does not check the compiled code itself and BUF has no length it
 * could check: BUF must be trusted bytes of length LEN, e.g. verified by a checksum. */
bool rx_deserialize(const unsigned char *buf, size_t len, size_t n, rx **out)
{
	/* PCRE2's stream header: magic, version, configuration, number of codes */
	if (!buf || len < 16 || n == 0 || n > INT32_MAX ||
	    pcre2_serialize_get_number_of_codes(buf) != (int32_t)n)
		return false;
	pcre2_code **codes = calloc(n, sizeof(*codes));
	if (!codes)
		return false;
	if (pcre2_serialize_decode(codes, (int32_t)n, buf, NULL) != (int32_t)n) {
		for (size_t i = 0; i < n; i++)
			pcre2_code_free(codes[i]);
		free(codes);
		return false;
	}
	uint32_t pairs = 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = rx_pairs(codes[i]);
		pairs = p > pairs ? p : pairs;
	}
	/* one match-data block for all: see the top of the file */
	rx_md *md = rx_md_new(pairs);
	size_t i = 0;
	for (; md && i < n; i++)
		if (!(out[i] = rx_wrap(codes[i], NULL, md)))
			break;
	if (i < n) {
		for (size_t j = md ? i + 1 : 0; j < n; j++)
			pcre2_code_free(codes[j]);
		for (size_t j = 0; j < i; j++)
			rx_free(out[j]);
		if (i == 0)
			free(md);
	}
	free(codes);
	return i == n;
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
	rxlit_free(&r->need);
	free(r);
}

bool rx_set_source(rx *r, const char *pattern)
{
	rxlit_free(&r->need);
	return rxlit_analyse(pattern, &r->need);
}

const rxlit *rx_need(const rx *r)
{
	return &r->need;
}

void rx_set_need(rx *r, rxlit *need)
{
	rxlit_free(&r->need);
	r->need = *need;
	memset(need, 0, sizeof(*need));
}

bool rx_may_match(const rx *r, const char *lower, size_t len)
{
	return rxlit_may_match(&r->need, lower, len);
}

bool rx_may_match_in(const rx *r, const rxlit_text *t)
{
	return rxlit_may_match_in(&r->need, t);
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
	return r && name && pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)name) >= 0;
}
