/* SPDX-License-Identifier: MIT */
/*
 * core.h - the engine's own state: symbols, working memory, the Rete network, the agenda
 * and the records of rule firings. Shared by engine.c, rete.c, agenda.c and whynot.c only;
 * the loader sees internal.h.
 */
#ifndef MLARCH_ENGINE_CORE_H
#define MLARCH_ENGINE_CORE_H

#include "internal.h"

#include <string.h>

/* A 64-bit finaliser: spreads every input bit over the output. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* A value as 64 bits, equal for equal values (0 and -0 too), before mixing. */
static inline uint64_t value_bits(eng_value v)
{
	uint64_t x;
	switch (v.type) {
	case ENG_SYMBOL:
	case ENG_STRING: x = v.u.sym; break;
	case ENG_NUMBER: {
		double d = v.u.num == 0 ? 0.0 : v.u.num;
		memcpy(&x, &d, sizeof(x));
		break;
	}
	case ENG_BOOL: x = v.u.b; break;
	default: x = 0; break;
	}
	return x * 8 + (uint64_t)v.type;
}

/* The hash of a value: inline, since the matcher computes it for every probe;
 * eng_value_hash is the same function for the other modules. */
static inline uint64_t value_hash(eng_value v)
{
	return mix64(value_bits(v));
}

/* ---- pools: fixed-size objects with a free list, dropped wholesale on clear ---- */

typedef struct pool {
	size_t size;            /* object size, rounded up */
	void *free;             /* free list through the first word */
	void *chunks;           /* chunk list through the first word */
	void *spare;            /* chunks emptied by pool_reset, reused before new ones */
	size_t left;            /* objects not yet carved from the newest chunk */
	unsigned char *next;
} pool;

void pool_init(pool *p, size_t size);
void *pool_get(pool *p);                /* zeroed object or NULL */
void *pool_get_raw(pool *p);            /* the same, not zeroed: the caller sets it all */
void pool_put(pool *p, void *obj);
void pool_reset(pool *p);               /* drops every object at once, keeps the memory */
void pool_drop(pool *p);                /* frees every object and the memory */

/* ---- symbols ---- */

typedef struct {
	char **names;           /* names[sym], names[0] = "" */
	uint32_t *lens;
	uint32_t count, cap;
	uint32_t *slots;        /* open addressing: symbol ids, 0 = empty */
	uint32_t nslots;        /* power of two */
	arena *text;
} symtab;

/* ---- working memory ---- */

typedef struct fact fact;
typedef struct token token;
/* A token's number in the engine's token table (token_at), 0 for none: the links between
 * tokens are numbers of 4 bytes, which keeps a token to one cache line. */
typedef uint32_t tref;
typedef struct amem amem;
typedef struct amem_item amem_item;
/* An alpha memory item's number (item_at): its size class in the top two bits, its place
 * in that class's table below them; 0 for none. */
typedef uint32_t iref;
typedef struct negres negres;
typedef struct firing firing;
typedef struct rnode rnode;

/* The bits of a fact's hash kept in it: the dedup table's buckets are picked with them,
 * so it may grow to 2^29 buckets before chains lengthen (2^30 facts, 96 GiB of them). */
#define FACT_HASH_BITS 29
#define FACT_HASH_MASK ((UINT32_C(1) << FACT_HASH_BITS) - 1)

typedef struct support {
	firing *f;
	struct support *next;
} support;

/* 88 bytes: the three flags share a word with the hash, and its items and tokens are
 * named by their numbers. What a join and the agenda read, the triple and the id, comes
 * first: in one cache line, as pools align to one. */
struct fact {
	eng_triple t;
	eng_fact_id id;
	uint32_t hash : FACT_HASH_BITS;     /* triple_hash (engine.c) */
	uint32_t input : 1;     /* asserted from outside or by a procedural rule */
	uint32_t dying : 1;     /* queued for retraction */
	uint32_t deferred : 1;  /* in WM, not yet in the network (eng->deferred) */
	uint64_t origin;
	fact *hnext;            /* dedup table chain */
	fact *sanext;           /* (subject, attribute) table chain */
	iref items;             /* alpha memory items of this fact (through item->fnext) */
	tref tokens;            /* tokens whose wme is this fact (through tok->fnext) */
	negres *negs;           /* negative-join results on this fact */
	support *supporters;    /* logical firings that asserted it */
	const eng_just *why;    /* first justification, NULL for input facts */
};

/* ---- alpha network ---- */

/* A test a fact must pass to enter an alpha memory: on one field against a constant
 * (or set), or between two fields of the same fact. */
typedef struct {
	uint8_t field;
	uint8_t other;          /* for field-vs-field tests */
	bool vs_field;
	cmp_op op;
	eng_value k;
	eng_value *set;
	uint32_t nset;
} atest;

/* An item is as long as its memory's indexes need: a pair of links for each, or one pair
 * for the memory's list when it has no index (an indexed memory has no list: its items
 * are walked through the buckets of the index in slot 0). 16 bytes and 8 for each pair:
 * links are item numbers, and the memory is named by its number. */
struct amem_item {
	fact *f;
	uint32_t mem;                   /* eng.amem_ids[mem] */
	iref fnext;                     /* in the fact's list */
	iref link[];                    /* link[2 * s], link[2 * s + 1]: next and previous in
	                                 * the bucket of the memory's index in slot s, or in
	                                 * the memory's list */
};

/* The items of one size class: those of memories with 1, 2, 3 or 4 pairs of links. */
#define ICLASS_SHIFT 30
#define IINDEX_MASK ((UINT32_C(1) << ICLASS_SHIFT) - 1)
typedef struct {
	unsigned char **chunks; /* of 256 items each */
	uint32_t nchunks, capchunks;
	uint32_t next;          /* the first place never handed out since the last clear */
	iref free;              /* items given back, through their fnext */
	uint32_t size;          /* bytes of an item */
} itable;

typedef struct {
	iref *buckets;
	uint32_t nbuckets;      /* power of two, 0 = no index */
} aindex;

/* An alpha memory's indexes: one per field, and one on several fields at once (the
 * fields of multi_mask) for joins that compare two or three fields with the token. */
#define AIDX_MULTI 3
#define AIDX_COUNT 4

struct amem {
	uint8_t mask;           /* which fields are constants: bit 0 subject, 1 attr, 2 value */
	eng_value k[3];
	atest *tests;
	uint32_t ntests;
	iref items;             /* its list, while it has no index */
	uint32_t count;
	uint32_t id;            /* eng.amem_ids[id] is this memory */
	aindex idx[AIDX_COUNT];
	int8_t slot[AIDX_COUNT];/* the links of idx[i] in an item, -1 while it is unused */
	uint8_t nidx;           /* indexes in use: items hold 2 * max(nidx, 1) links */
	uint8_t first;          /* the index in slot 0 (AIDX_*), while nidx > 0 */
	uint8_t multi_mask;     /* the fields of idx[AIDX_MULTI]; 0 while it is unused */
	rnode **succ;           /* join and negative nodes fed by this memory */
	uint32_t nsucc, capsucc;
	amem *next;             /* in the engine's list of memories with the same key */
	amem *all;              /* in the engine's list of all memories */
	amem *dirty_next;       /* in the engine's list of memories filled since the last clear */
	bool dirty;
	bool whole;             /* it matches every fact (no constant, no test): it holds no
	                         * items, working memory is its content (eng.whole) */
};

/* ---- beta network ---- */

typedef enum { RN_MEM, RN_JOIN, RN_NEG, RN_TEST, RN_PROD } rnode_kind;

/* A join test: field FIELD of the new fact OP the value at (LEVEL, LFIELD) of the token. */
typedef struct {
	uint8_t field;
	uint8_t lfield;
	uint16_t level;
	cmp_op op;
} jtest;

/* Where a rule variable gets its value: field FIELD of the fact at token level LEVEL. */
typedef struct {
	uint16_t level;         /* 0: unbound (local to a negation) */
	uint8_t field;
} varloc;

typedef struct rule rule;

/* What a right or left activation reads of a join and of the stores around it comes
 * first, in one cache line: kinds, counts, links, buckets, the memory and the tests. */
struct rnode {
	rnode_kind kind;
	uint16_t level;         /* stores: the level of their tokens */
	uint8_t nkey;           /* hashed on the values at (key_level[i], key_field[i]), i <
	                         * nkey, deepest level first, which the join that chose them
	                         * compares with fields key_ffield[i] of its facts; 0: not
	                         * hashed */
	bool keyed;             /* JOIN and NEG: its left store (NEG: itself) is hashed on
	                         * values its equality tests compare: partners are in one
	                         * bucket */
	uint32_t ntokens;       /* stores (MEM, NEG, TEST, PROD; PROD tokens are only
	                         * counted) */
	uint32_t ntests;        /* JOIN and NEG */
	rnode *parent;
	rnode *children;        /* first child */
	tref *tbuckets;         /* stores: ntbuckets lists, a power of two */
	uint32_t ntbuckets;
	tref tokens;            /* the one bucket of an unhashed store (tbuckets = &tokens) */
	amem *am;               /* JOIN and NEG */
	jtest *tests;

	rnode *sibling;         /* next child of the parent */
	uint8_t key_field[3];
	uint8_t key_ffield[3];
	uint16_t key_level[3];

	/* JOIN and NEG */
	int hashed_test;        /* index of the equality test used for hashing, or -1 */
	int8_t aidx;            /* the alpha memory's index it looks in (AIDX_*), or -1 */
	int8_t islot;           /* that index's slot in the memory's items (amem.slot) */
	int8_t mtest[3];        /* the first equality test on each field of the fact, or -1 */
	fact *hint;             /* NEG: the fact of its memory that blocked a token last */

	/* TEST */
	const expr *test;
	const varloc *vars;     /* the rule's variable locations */
	uint32_t nvars;
	rule *owner;            /* for error messages */
	eng_value *scratch;     /* bindings while evaluating the test */

	/* PROD */
	rule *prod;
	rnode *next_all;        /* engine's list of all stores */
	rnode *dirty_next;      /* engine's list of stores filled since the last clear */
	bool dirty;
};

/* ---- what a rule needs and makes (defer.c) ---- */

/* A positive condition with a constant attribute: the facts that can match it. */
typedef struct {
	eng_sym attr;
	bool any;               /* any value of ATTR (the value is a variable or compared) */
	uint32_t nvals;         /* else one of VALS (none: no fact can match) */
	const eng_value *vals;
} dep_need;

/* A fact a rule asserts or modifies. */
typedef struct {
	eng_sym attr;           /* 0: a computed attribute, so any */
	eng_value v;            /* ENG_NONE: any value */
} dep_prod;

/* A rule's dependency summary: what decides whether it can fire for a question, and
 * which control facts it changes (cond_goes_last), without its IR. Worked out from the
 * IR when a rule is compiled, or read from a compiled cache (eng_load_doc_lazy). */
struct rule_deps {
	dep_need *needs;
	uint32_t nneeds;
	dep_prod *prods;
	uint32_t nprods;
	eng_triple *changes;    /* (S, A, -) of its modifies and constant retracts, 0 = any */
	uint32_t nchanges;
	bool modifies;
};

struct rule {
	const ir_rule *ir;      /* NULL until compiled (a rule of eng_load_doc_lazy) */
	const char *id;         /* ir->id, known before the IR */
	const rule_deps *deps;
	const eng_doc *doc;     /* where an uncompiled rule is: its document and node, */
	const eng_node *node;
	const unsigned char *tree;      /* or the image of its own tree, and its checksum */
	uint32_t treelen;
	uint64_t treesum;
	const char *file;       /* the document's name, in the rules arena */
	uint32_t index;
	varloc *vars;
	uint32_t npos;          /* positive conditions */
	uint16_t *pos_level;    /* level of each positive condition's fact */
	uint16_t *level_pos;    /* the other way: 1 + the positive condition whose fact is at
	                         * each level of its tokens, 0 for none */
	rnode *prod;
	eng_sym *cite;
	uint8_t *tag_perm;      /* agenda.c: the order in which the last activation's facts,
	                         * as met going up its token, sorted newest first */
	uint32_t nchanged;      /* eng.nchanged once its file's changes were noted: what
	                         * cond_goes_last saw, when its building was deferred */
};

/* A partial match. Tokens form a tree: each extends its parent by one level. 64 bytes, a
 * cache line (the token table is aligned to one): links to other tokens are
 * their numbers, and a PROD token, in no bucket, keeps its activation and firing where
 * the others have their bucket links. */
struct token {
	/* what a walk up the tree reads, together at the start */
	tref parent;
	uint16_t level;
	uint16_t hash;          /* the low bits of its key's hash in a hashed store: enough
	                         * for a store of up to 2^16 buckets (a larger one works the
	                         * hash out again when it needs it) */
	fact *wme;              /* NULL at levels of negations and tests */
	rnode *node;
	eng_fact_id wid;        /* wme's id, 0 without one: the agenda's time tags, without a
	                         * look at the fact */
	tref children, next_sib, prev_sib;
	tref fnext, fprev;      /* in wme->tokens */
	union {                 /* by node->kind; all zero in a new token */
		struct {                /* MEM, NEG and TEST */
			tref hnext;             /* in the node's hash bucket (its one list
			                         * when unhashed) */
			tref hprev;             /* 0 while out of the buckets, TREF_HEAD
			                         * first in its bucket */
			negres *results;        /* NEG: the fact that blocks it, if any; a
			                         * blocked token is in no bucket */
		};
		struct {                /* PROD: in no bucket */
			struct activation *act; /* pending activation */
			firing *fired;          /* the logical firing it produced */
		};
	};
};

#define TREF_HEAD UINT32_MAX

struct negres {
	tref owner;
	fact *f;
	negres *fnext, *fprev;  /* in f->negs */
};

/* How many of a match's facts the agenda compares for recency (the newest ones). */
#define AGENDA_TAGS 16

typedef struct activation {
	tref tok;
	rule *r;
	uint64_t seq;
	int32_t salience;       /* the rule's, here for the heap's comparisons */
	uint32_t heap;          /* index in the agenda heap, or in the pending list */
	bool pending;           /* not in the heap yet (agenda.c) */
	bool dead;              /* removed, still in the heap until it is compacted */
	uint32_t ntags;
	eng_fact_id tags[AGENDA_TAGS];  /* the ids of the matched facts, newest first */
} activation;

typedef struct effect {
	bool is_concl;
	union {
		fact *f;
		uint32_t concl;
	} u;
	struct effect *next;
} effect;

/* A rule's firing, in run_arena with its fact ids and bindings (engine.c, fire). A
 * procedural firing that no fact or conclusion names goes as soon as its actions are done. */
struct firing {
	eng_just just;
	tref tok;               /* 0 once withdrawn or for procedural firings */
	effect *effects;
	bool withdrawn;
	bool named;             /* some fact's why or a conclusion points at it */
};

typedef struct {
	eng_sym kind;
	eng_value target;
	eng_value role;
	firing *why;
	bool live;
} concl;

/* ---- the engine ---- */

struct eng {
	symtab syms;
	arena *rules_arena;
	eng_limits limits;
	eng_sym default_subject;
	eng_sym *concl_kinds;
	uint32_t nconcl_kinds;
	char **skip_sections;
	uint32_t nskip;

	/* rules */
	rule **rules;
	uint32_t nrules, caprules;
	uint32_t *rule_slots;   /* rule ids, open addressing: index + 1, 0 = empty */
	uint32_t nrule_slots;   /* a power of two, at least twice nrules */
	eng_triple *changed;    /* (S, A, -) of every modify, and of retracts with constant S
	                         * and A, in the rules loaded; 0 stands for any symbol */
	uint32_t nchanged, capchanged;
	eng_triple *deffacts;
	uint32_t ndeffacts, capdeffacts;
	uint32_t *deffact_slots;    /* background facts, open addressing: index + 1, 0 = empty */
	uint32_t ndeffact_slots;    /* a power of two, at least twice ndeffacts */
	bool defer;             /* eng_rules_defer: rules wait for eng_rules_build_* */
	bool trees_damaged;     /* a rule's stored tree failed its checksum */
	uint32_t nplaced;       /* rules[0, nplaced) are built, or left out for good */
	struct inputs *inputs;  /* defer.c: the kinds of input fact allowed, once the network
	                         * was built for them only (NULL: any) */

	/* alpha network: memories by constant key */
	amem **amem_table;
	uint32_t amem_nbuckets;
	uint8_t masks_used;     /* bit m set: some memory has constant mask m */
	amem *amems;
	uint32_t namems;
	amem *dirty_amems;      /* what eng_clear must empty: only what was filled */
	amem *whole;            /* the memory of a pattern that any fact matches, if some rule
	                         * has one: its nodes look for facts in the fact tables */

	/* beta network */
	rnode *top;             /* the dummy top memory */
	rnode *stores;          /* all stores */
	rnode *dirty_stores;    /* stores that got tokens since the last clear */

	/* working memory */
	fact **facts;           /* by id */
	uint32_t nfacts, capfacts;
	size_t live;
	fact **ftable;          /* dedup table */
	fact **satable;         /* the same facts by subject, for modify and the whole memory:
	                         * only once a rule that modifies or matches any fact is loaded
	                         * (with working memory empty, so every fact is in it) */
	bool by_subject;        /* satable is kept */
	uint32_t nftable;       /* the size of both */
	fact **deferred;        /* asserted by a procedural firing, not yet matched */
	uint32_t ndeferred, capdeferred;
	bool deferring;         /* a procedural firing runs: wm_assert defers matching */
	fact **dying;           /* retractions queued while the network is busy */
	uint32_t ndying, capdying;
	bool busy;

	/* agenda */
	activation **heap;
	uint32_t nheap, capheap;
	uint32_t ndead;         /* removed activations still in the heap */
	bool unsorted;          /* the heap needs rebuilding before it is read */
	activation **pending;   /* made since the agenda was last consulted */
	uint32_t npending, cappending;
	uint64_t seq;

	/* conclusions */
	concl *concls;          /* concls[0] unused */
	uint32_t nconcls, capconcls;

	itable items[AIDX_COUNT];   /* by the pairs of links of an item, less one */
	amem **amem_ids;        /* memories by number */
	uint32_t capamem_ids;
	token *tokens;          /* the token table, one array aligned to a cache line: token r
	                         * is tokens[r]; token 0 is never handed out. It moves when
	                         * it grows, so no token pointer is kept across a token_new:
	                         * tokens hold each other, activations and firings their
	                         * tokens, by number */
	unsigned char *traw;    /* its allocation, which tokens is aligned in */
	uint32_t tcap;          /* tokens it has room for */
	tref tnext;             /* the first token never handed out since the last clear */
	tref tfree;             /* tokens given back, through their parent link */
	pool neg_pool, act_pool, support_pool, effect_pool, fact_pool;
	arena *run_arena;       /* firings that something names: until the next clear */
	eng_status run_error;
	eng_status match_error; /* a test failed to evaluate while matching */
	char error[512];
	rule *current;          /* the rule firing now, for error messages */
};

/* Item R, which is not 0. */
static inline amem_item *item_at(const eng *e, iref r)
{
	const itable *t = &e->items[r >> ICLASS_SHIFT];
	uint32_t i = r & IINDEX_MASK;
	return (amem_item *)(t->chunks[i >> 8] + (size_t)(i & 255) * t->size);
}

/* Token R, which is not 0. */
static inline token *token_ref(const eng *e, tref r)
{
	return e->tokens + r;
}

/* Token R, or NULL for 0. */
static inline token *token_at(const eng *e, tref r)
{
	return r ? token_ref(e, r) : NULL;
}

/* The hash that picks a fact's chain in eng.satable. */
static inline uint64_t subject_hash(eng_sym subject)
{
	return mix64(subject);
}

/* engine.c */
fact *wm_get(const eng *e, eng_fact_id id);
eng_status wm_assert(eng *e, eng_triple t, uint64_t origin, bool input, fact **out,
                     bool *added);
void wm_retract(eng *e, fact *f);
eng_status grow(void **ptr, uint32_t *cap, uint32_t need, size_t elem);

/* rete.c */
eng_status rete_build_rule(eng *e, rule *r);
eng_status rete_top_init(eng *e);
eng_status rete_add_fact(eng *e, fact *f);
void rete_remove_fact(eng *e, fact *f);
void rete_clear(eng *e);
void rete_free(eng *e);
void token_bindings(const eng *e, const token *t, const rule *r, eng_value *out);
void rete_tokens_free(eng *e);
void rete_items_init(eng *e);
void rete_items_free(eng *e);
eng_value fact_field(const fact *f, uint8_t field);
bool cmp_values(cmp_op op, eng_value a, eng_value b);

/* agenda.c */
eng_status agenda_add(eng *e, tref r, token *t, rule *rl);
void agenda_remove(eng *e, activation *a);
activation *agenda_pop(eng *e);
activation *agenda_top(eng *e);
eng_status agenda_flush(eng *e);
void agenda_clear(eng *e);

/* defer.c */
eng_status defer_build_pending(eng *e);
/* The IR of rule R, compiled now if it was not yet; NULL (with e->error) when it cannot
 * be. The engine is logically const: compiling only fills in what was deferred. */
const ir_rule *rule_ir(const eng *e, rule *r);
/* R's summary worked out from its IR, in the rules arena; NULL when out of memory. */
const rule_deps *deps_from_ir(eng *e, const ir_rule *ir);
/* Notes in e->changed what D changes (before the rule is added). */
eng_status deps_note_changes(eng *e, const rule_deps *d);
bool defer_input_allowed(eng *e, eng_sym attribute, eng_value value);
void defer_free(eng *e);

/* engine.c: what the network calls when a production's token goes */
void firing_withdraw(eng *e, firing *f);

#endif
