/* SPDX-License-Identifier: MIT */
/* scenario.c - loading, finding and running scenario files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario.h"

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void err_at(eng_diags *d, const eng_doc *doc, const eng_node *n, const char *fmt,
                   const char *arg)
{
	size_t len = 0;
	uint32_t line = n ? eng_node_line(n) : 0;
	const char *src = line ? eng_doc_line(doc, line, &len) : NULL;
	char *copy = src ? dupn(src, len) : NULL;
	size_t span = 1;
	if (n && eng_node_kind_of(n) == ENG_NODE_SCALAR)
		eng_node_text(n, &span);
	eng_diags_add(d, ENG_SEV_ERROR, eng_doc_name(doc), line, n ? eng_node_col(n) : 0,
	              (uint32_t)(span ? span : 1), copy, NULL, fmt, arg);
	free(copy);
}

static const char *scalar(const eng_node *n)
{
	return n && eng_node_kind_of(n) == ENG_NODE_SCALAR ? eng_node_text(n, NULL) : NULL;
}

/* A list of scalars (a lone scalar counts as a list of one) into *OUT (*NOUT of them,
 * set even on failure). False after an error in D, or with *NOMEM set. */
static bool str_list(const eng_doc *doc, const eng_node *n, const char *key, eng_diags *d,
                     char ***out, size_t *nout, bool *nomem)
{
	*out = NULL;
	*nout = 0;
	if (!n)
		return true;
	size_t count = eng_node_kind_of(n) == ENG_NODE_SEQ ? eng_node_size(n) : 1;
	if (eng_node_kind_of(n) == ENG_NODE_MAP) {
		err_at(d, doc, n, "`%s` must be a list", key);
		return false;
	}
	*out = calloc(count + 1, sizeof(char *));
	if (!*out) {
		*nomem = true;
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		const eng_node *it = eng_node_kind_of(n) == ENG_NODE_SEQ ? eng_node_item(n, i) : n;
		const char *s = scalar(it);
		if (!s) {
			err_at(d, doc, it, "items of `%s` must be plain values", key);
			return false;
		}
		if (!((*out)[*nout] = strdup(s))) {
			*nomem = true;
			return false;
		}
		(*nout)++;
	}
	return true;
}

static eng_value typed(eng *e, const eng_node *n)
{
	size_t len;
	const char *s = eng_node_text(n, &len);
	eng_value v = { ENG_NONE, { 0 } };
	if (eng_node_quoted(n))
		return eng_string(e, s);
	if (!strcmp(s, "true") || !strcmp(s, "yes"))
		return eng_bool(true);
	if (!strcmp(s, "false") || !strcmp(s, "no"))
		return eng_bool(false);
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (len && *end == '\0' && errno == 0 && s[0] != '+' && s[0] != '.' &&
	    strspn(s, "0123456789.eE+-") == len)
		return eng_number(d);
	v = eng_symbol(e, s);
	return v;
}

static const char *scenario_keys[] = { "id", "question", "facts", "expect", "cite", "note", NULL };
static const char *expect_keys[] = { "answer", "recommend", "reject", NULL };

static bool known(const char *k, const char **keys)
{
	for (; *keys; keys++)
		if (!strcmp(k, *keys))
			return true;
	return false;
}

static bool answer_letters(const eng_doc *doc, const eng_node *n, eng_diags *d, scenario *s,
                           bool *nomem)
{
	char **letters;
	size_t nl;
	/* letters/nl are set even when str_list fails; each letter A-H at most once keeps
	 * s->answer within its Q_MAX_OPTIONS letters */
	bool ok = str_list(doc, n, "answer", d, &letters, &nl, nomem);
	for (size_t i = 0; i < nl && ok; i++) {
		if (strlen(letters[i]) != 1 || letters[i][0] < 'A' || letters[i][0] > 'H' ||
		    memchr(s->answer, letters[i][0], strlen(s->answer))) {
			err_at(d, doc, eng_node_kind_of(n) == ENG_NODE_SEQ ? eng_node_item(n, i) : n,
			       "`%s` is not an option letter (A to H, each once)", letters[i]);
			ok = false;
			break;
		}
		s->answer[strlen(s->answer)] = letters[i][0];
	}
	for (size_t i = 0; i < nl; i++)
		free(letters[i]);
	free(letters);
	/* sorted, so comparison is by string */
	size_t len = strlen(s->answer);
	for (size_t i = 1; i < len; i++)
		for (size_t m = i; m > 0 && s->answer[m - 1] > s->answer[m]; m--) {
			char t = s->answer[m];
			s->answer[m] = s->answer[m - 1];
			s->answer[m - 1] = t;
		}
	s->has_answer = ok;
	return ok;
}

/* Reads the scenario in DOC (read from PATH) into *S, which scenario_load has zeroed; D
 * had BEFORE errors. Frees DOC. Returns ENG_ERR_NOMEM when memory ran out, ENG_ERR_LOAD
 * when it added errors to D. */
static eng_status scenario_read(const kb *k, const char *path, eng_doc *doc, eng_diags *d,
                                size_t before, scenario *s)
{
	bool nomem = !(s->file = strdup(path));
	const eng_node *root = eng_doc_root(doc);
	if (!root || eng_node_kind_of(root) != ENG_NODE_MAP) {
		err_at(d, doc, root, "a scenario is a mapping with `question` or `facts`%s", "");
		goto done;
	}
	for (size_t i = 0; i < eng_node_size(root); i++) {
		const char *key = scalar(eng_node_key(root, i));
		if (key && !known(key, scenario_keys))
			err_at(d, doc, eng_node_key(root, i),
			       "unknown key `%s` in a scenario (id, question, facts, expect, cite, note)",
			       key);
	}
	const char *id = scalar(eng_node_get(root, "id"));
	if (id) {
		s->id = strdup(id);
	} else {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		size_t n = strlen(base);
		if (n > 5 && !strcmp(base + n - 5, ".yaml"))
			n -= 5;
		s->id = dupn(base, n);
	}
	nomem = nomem || !s->id;
	const eng_node *q = eng_node_get(root, "question");
	const eng_node *facts = eng_node_get(root, "facts");
	if (q) {
		size_t len;
		const char *text = scalar(q) ? eng_node_text(q, &len) : NULL;
		if (!text)
			err_at(d, doc, q, "`question` must be text%s", "");
		else {
			s->question = dupn(text, len);
			nomem = nomem || !s->question;
			s->question_len = len;
			s->question_line = eng_node_line(q);
		}
	}
	if (facts) {
		if (eng_node_kind_of(facts) != ENG_NODE_MAP) {
			err_at(d, doc, facts, "`facts` must map attributes to values%s", "");
		} else {
			s->facts = calloc(eng_node_size(facts) + 1, sizeof(sc_fact));
			nomem = nomem || !s->facts;
			for (size_t i = 0; s->facts && !nomem && i < eng_node_size(facts); i++) {
				const eng_node *key = eng_node_key(facts, i), *val = eng_node_value(facts, i);
				const char *attr = scalar(key);
				size_t count = eng_node_kind_of(val) == ENG_NODE_SEQ ? eng_node_size(val) : 1;
				sc_fact *grown = realloc(s->facts, (s->nfacts + count + 1) * sizeof(sc_fact));
				if (!grown) {
					nomem = true;
					break;
				}
				s->facts = grown;
				for (size_t m = 0; m < count; m++) {
					const eng_node *v = eng_node_kind_of(val) == ENG_NODE_SEQ
					                    ? eng_node_item(val, m) : val;
					if (!attr || !scalar(v)) {
						err_at(d, doc, v, "a fact is `attribute: value` (or a list of values)%s", "");
						continue;
					}
					sc_fact *f = &s->facts[s->nfacts++];
					f->attr = eng_intern(k->e, attr, strlen(attr));
					f->value = typed(k->e, v);
					f->line = eng_node_line(v);
					nomem = nomem || !f->attr || f->value.type == ENG_NONE;
				}
			}
		}
	}
	if (!q && !facts)
		err_at(d, doc, root, "a scenario needs `question` (text) or `facts`%s", "");
	if (q && facts)
		err_at(d, doc, facts, "give `question` or `facts`, not both%s", "");
	const eng_node *ex = eng_node_get(root, "expect");
	if (!ex || eng_node_kind_of(ex) != ENG_NODE_MAP) {
		err_at(d, doc, ex ? ex : root, "a scenario needs `expect:` with `answer`, "
		       "`recommend` or `reject`%s", "");
	} else {
		for (size_t i = 0; i < eng_node_size(ex); i++) {
			const char *key = scalar(eng_node_key(ex, i));
			if (key && !known(key, expect_keys))
				err_at(d, doc, eng_node_key(ex, i),
				       "unknown key `%s` in expect (answer, recommend, reject)", key);
		}
		const eng_node *a = eng_node_get(ex, "answer");
		if (a)
			answer_letters(doc, a, d, s, &nomem);
		str_list(doc, eng_node_get(ex, "recommend"), "recommend", d, &s->recommend,
		         &s->nrecommend, &nomem);
		str_list(doc, eng_node_get(ex, "reject"), "reject", d, &s->reject, &s->nreject,
		         &nomem);
		if (q && !a)
			err_at(d, doc, ex, "a question scenario needs `expect: answer:`%s", "");
		for (size_t i = 0; i < s->nrecommend; i++)
			if (!kb_entity_find(k, s->recommend[i]))
				err_at(d, doc, eng_node_get(ex, "recommend"),
				       "`%s` is not in the catalog", s->recommend[i]);
		for (size_t i = 0; i < s->nreject; i++)
			if (!kb_entity_find(k, s->reject[i]))
				err_at(d, doc, eng_node_get(ex, "reject"), "`%s` is not in the catalog",
				       s->reject[i]);
	}
	const eng_node *cite = eng_node_get(root, "cite");
	if (!cite)
		err_at(d, doc, root, "a scenario needs `cite:` (the notes that decide it; [] when "
		       "they do not)%s", "");
	else if (str_list(doc, cite, "cite", d, &s->cite, &s->ncite, &nomem) && k->nsources)
		for (size_t i = 0; i < s->ncite; i++)
			if (!kb_source_find(k, s->cite[i]))
				err_at(d, doc, cite, "unknown note id `%s`", s->cite[i]);
	if (cite && s->has_answer && s->answer[0] && s->ncite == 0)
		err_at(d, doc, cite, "a decided scenario must cite the notes that decide it%s", "");
done:
	eng_doc_free(doc);
	if (nomem)
		return ENG_ERR_NOMEM;
	return eng_diags_errors(d) > before ? ENG_ERR_LOAD : ENG_OK;
}

eng_status scenario_load(const kb *k, const char *path, eng_diags *d, scenario *s)
{
	memset(s, 0, sizeof(*s));
	eng_status st;
	size_t before = eng_diags_errors(d);
	eng_doc *doc = eng_doc_read_file(path, &k->limits.eng.doc, d, &st);
	if (!doc)
		return st ? st : ENG_ERR_LOAD;
	return scenario_read(k, path, doc, d, before, s);
}

eng_status scenario_load_string(const kb *k, const char *name, const char *text, size_t len,
                                eng_diags *d, scenario *s)
{
	memset(s, 0, sizeof(*s));
	eng_status st;
	size_t before = eng_diags_errors(d);
	eng_doc *doc = eng_doc_read_string(name, text, len, &k->limits.eng.doc, d, &st);
	if (!doc)
		return st ? st : ENG_ERR_LOAD;
	return scenario_read(k, name, doc, d, before, s);
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void scenario_free(scenario *s)
{
	free(s->file);
	free(s->id);
	free(s->question);
	free(s->facts);
	free_list(s->recommend, s->nrecommend);
	free_list(s->reject, s->nreject);
	free_list(s->cite, s->ncite);
	memset(s, 0, sizeof(*s));
}

/* ---- finding files ---- */

typedef struct {
	char **v;
	size_t n, cap;
} paths;

static bool paths_add(paths *p, const char *s)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->v, cap * sizeof(char *));
		if (!v)
			return false;
		p->v = v;
		p->cap = cap;
	}
	return (p->v[p->n++] = strdup(s)) != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool walk(paths *p, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *ent;
	bool ok = true;
	size_t first = p->n;
	while (ok && (ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		size_t len = strlen(dir) + strlen(ent->d_name) + 2;
		char *full = malloc(len);
		if (!full) {
			ok = false;
			break;
		}
		snprintf(full, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
		         ent->d_name);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (depth < 16)
				ok = walk(p, full, depth + 1);
		} else {
			size_t n = strlen(ent->d_name);
			if ((n > 5 && !strcmp(ent->d_name + n - 5, ".yaml")) ||
			    (n > 4 && !strcmp(ent->d_name + n - 4, ".yml")))
				ok = paths_add(p, full);
		}
		free(full);
	}
	closedir(d);
	qsort(p->v + first, p->n - first, sizeof(char *), cmp_str);
	return ok;
}

char **scenario_find(char **args, int nargs, size_t *n, const char **bad)
{
	paths p = { NULL, 0, 0 };
	for (int i = 0; i < nargs; i++) {
		struct stat st;
		if (stat(args[i], &st) != 0) {
			*bad = args[i];
			scenario_paths_free(p.v, p.n);
			return NULL;
		}
		bool ok = S_ISDIR(st.st_mode) ? walk(&p, args[i], 0) : paths_add(&p, args[i]);
		if (!ok) {
			int err = errno;
			*bad = args[i];
			scenario_paths_free(p.v, p.n);
			errno = err;
			return NULL;
		}
	}
	*n = p.n;
	if (!p.v)
		p.v = calloc(1, sizeof(char *));
	return p.v;
}

void scenario_paths_free(char **p, size_t n)
{
	free_list(p, n);
}

/* ---- running ---- */

static bool concluded(kb *k, const judgement *j, const char *kind, const char *id)
{
	eng_sym ks = eng_sym_lookup(k->e, kind);
	const kb_entity *ent = kb_entity_find(k, id);
	if (!ks || !ent)
		return false;
	for (size_t i = 0; i < j->base.n; i++)
		if (j->base.v[i].kind == ks && j->base.v[i].target.type == ENG_SYMBOL &&
		    j->base.v[i].target.u.sym == ent->sym)
			return true;
	return false;
}

static eng_status run_facts(kb *k, const scenario *s, judgement *j)
{
	eng_status st = eng_reset(k->e);
	for (size_t i = 0; !st && i < s->nfacts; i++)
		st = eng_assert(k->e, k->s_scenario, s->facts[i].attr, s->facts[i].value,
		                ORIGIN(ORIGIN_FILE, s->facts[i].line), NULL, NULL);
	if (!st)
		st = eng_run(k->e, NULL);
	for (eng_concl_id c = st ? 0 : eng_concl_next(k->e, 0); c; c = eng_concl_next(k->e, c)) {
		eng_conclusion cc;
		if (!eng_concl_get(k->e, c, &cc))
			continue;
		if (j->base.n == j->base.cap) {
			size_t cap = j->base.cap ? j->base.cap * 2 : 16;
			reason *v = realloc(j->base.v, cap * sizeof(reason));
			if (!v)
				return ENG_ERR_NOMEM;
			j->base.v = v;
			j->base.cap = cap;
		}
		reason *r = &j->base.v[j->base.n++];
		memset(r, 0, sizeof(*r));
		r->kind = cc.kind;
		r->target = cc.target;
		r->rule = cc.why->rule;
	}
	return st;
}

eng_status scenario_run(kb *k, const scenario *s, sc_result *r)
{
	memset(r, 0, sizeof(*r));
	judgement j;
	memset(&j, 0, sizeof(j));
	eng_status st;
	if (s->question) {
		question q;
		size_t off;
		q_status qs = question_parse(s->question, s->question_len,
		                             k->limits.question_bytes, &q, &off);
		if (qs == Q_ERR_TOO_LONG)
			snprintf(r->message, sizeof(r->message), "the question is longer than the "
			         "limit of %zu bytes (limit question-bytes); raise it with --limit "
			         "question-bytes=%zu", k->limits.question_bytes, s->question_len);
		else if (qs != Q_OK)
			snprintf(r->message, sizeof(r->message), "the question does not read: %s",
			         q_status_str(qs));
		if (qs != Q_OK)
			return qs == Q_ERR_NOMEM ? ENG_ERR_NOMEM : ENG_OK;
		st = judge_question(k, &q, &j);
	} else {
		st = run_facts(k, s, &j);
	}
	if (st) {
		snprintf(r->message, sizeof(r->message), "%s: %s", eng_status_str(st),
		         eng_error(k->e));
		judgement_free(&j);
		return st;
	}
	memcpy(r->got, j.answer, sizeof(r->got));
	r->abstained = j.abstained;
	r->pass = true;
	size_t n = 0;
	/* A pattern stopped by its limit may have missed facts: the answer, right or wrong,
	 * does not say what the knowledge base gives, so the scenario fails. */
	for (size_t i = 0; i < SC_WARNINGS && judge_limit_describe(k, &j, i, r->warnings[i],
	                                                           sizeof(r->warnings[i])); i++)
		r->nwarnings++;
	if (r->nwarnings) {
		r->pass = false;
		n += (size_t)snprintf(r->message, sizeof(r->message), "%s", r->warnings[0]);
	}
	if (s->has_answer && strcmp(s->answer, j.answer) != 0 && n < sizeof(r->message)) {
		r->pass = false;
		n += (size_t)snprintf(r->message + n, sizeof(r->message) - n,
		                      "%sexpected %s, got %s%s%s", n ? "; " : "",
		                      s->answer[0] ? s->answer : "none",
		                      j.abstained ? "none (" : j.answer, j.abstained ? j.note : "",
		                      j.abstained ? ")" : "");
	}
	for (size_t i = 0; i < s->nrecommend && n < sizeof(r->message); i++)
		if (!concluded(k, &j, "recommend", s->recommend[i])) {
			r->pass = false;
			n += (size_t)snprintf(r->message + n, sizeof(r->message) - n,
			                      "%snot recommended: %s", n ? "; " : "", s->recommend[i]);
		}
	for (size_t i = 0; i < s->nreject && n < sizeof(r->message); i++)
		if (!concluded(k, &j, "reject", s->reject[i])) {
			r->pass = false;
			n += (size_t)snprintf(r->message + n, sizeof(r->message) - n,
			                      "%snot rejected: %s", n ? "; " : "", s->reject[i]);
		}
	judgement_free(&j);
	return ENG_OK;
}
