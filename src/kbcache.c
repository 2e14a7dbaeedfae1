/* SPDX-License-Identifier: MIT */
/*
 * kbcache.c - the compiled cache of a knowledge base (see kbcache.h).
 *
 * One file per knowledge-base folder, named after a hash of the folder's real path:
 *
 *   header  "MLARCHKB", format version, byte-order mark, file length, the table's length
 *           and checksum, 8 zero bytes
 *   table   this program's build id, the PCRE2 build, the folder's real path, when its
 *           files were looked at; per YAML file in load order: its path relative to the
 *           folder, size, inode, device, modification and change times (ns), a checksum of
 *           its contents, and the references of three sections: its document image
 *           with each rule cut down to its id, the summaries of its rules
 *           (eng_rules_deps_image) and each rule's own tree (eng_doc_serialize_rules: the
 *           two empty when the file has no rules, and then the image is the whole
 *           tree), so that a question reads the trees of the rules it compiles and no
 *           other; the number of compiled patterns and the length of each one's source,
 *           in load order; the references of the words each needs (rxlit_table_encode: the
 *           prefilter's analysis, which costs more than the rest of a warm load; every
 *           distinct word once with where it must stand in a word of the text, each
 *           pattern's requirement by word numbers, and per word the requirements whose key
 *           holds it, read in place and never copied), of
 *           the head that
 *           every pattern's PCRE2 stream begins with (a header and the character tables),
 *           of the image of the sources, catalog and lexicon (kb_image.c: their entries
 *           and the families, read in place, so that the files holding only those are
 *           not read at all), of the sources (each with a NUL, in load order: only
 *           compared, or trusted when a pattern's stream is damaged or the file is
 *           written anew, so that a warm load reads none of their megabyte) and of
 *           each pattern's rest of its stream (rx_encode)
 *   data    the sections, each at an offset aligned to 8
 *
 * A section's reference is its offset from the start of the data, its length and its
 * checksum. The table is checked with the header; a section when it is first used, so
 * that a run does not read what it does not need (a question runs a few dozen of some two
 * thousand patterns): the words and the head when the file is opened, a document image,
 * its rules' summaries and trees when the load reads them, a pattern when it first runs,
 * the sources when something must trust them (kbc_sources_ok).
 *
 * The file is untrusted input. Every length and offset is checked against the buffer, and
 * anything that differs from the knowledge base on disk or from this program makes the
 * cache unused: kb_load then reads the YAML and compiles the patterns as without a cache,
 * and writes a new file when it is done. The checksums cover what the structure checks
 * cannot: a changed byte inside a text or a compiled pattern (PCRE2 trusts the latter).
 * A damaged section is not used: a document image or a rule summary is read from the YAML
 * instead and the file written anew; a pattern, which runs after the load, is compiled
 * from its source (regex.h: rx_stored), the sources checked first, and the file removed,
 * for the next run to write.
 * A cache file is only read when it belongs to the user running mlarch.
 *
 * File times are coarse (a clock tick of a few milliseconds; whole seconds on some file
 * systems): a file rewritten within the tick in which it was read keeps its times and,
 * with the same length, would look unchanged. So a file whose times are within
 * KBC_RACY_S seconds of when the cache was made is also compared by content (the
 * "racy clean" files of git's index), which costs a read only right after an edit.
 *
 * Files are replaced whole: written to a temporary file in the same folder, then renamed,
 * so that concurrent runs each read an old or a new file, never a part.
 */
#define _GNU_SOURCE     /* dl_iterate_phdr, for the build id */

#include "kbcache.h"
#include "bytes.h"
#include "rxlit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KBC_MAGIC "MLARCHKB"
#define KBC_FORMAT 13u
#define KBC_BOM 0x01020304u
/* a file entry after its path: size, inode, device, modification time s, ns, change
 * time s, ns, content checksum; then its three section references */
#define KBC_ENTRY_FIXED (8 + 8 + 8 + 8 + 4 + 8 + 4 + 8)
/* a section reference: offset, length, checksum */
#define KBC_SEC_REF 24
#define KBC_MAX_BYTES ((size_t)512 << 20)
#define KBC_ID_MAX 256
#define KBC_RACY_S 2
/* a cache file's name, "kb-" and the 16 hex digits of its rules folder's hash, then ".bin"
 * (kbc_path); a temporary file is that name, ".tmp." and more (kbc_replace) */
#define KBC_NAME_HEAD "kb-"
#define KBC_NAME_TAIL ".bin"
#define KBC_NAME_TMP ".tmp."
/* a cache file no run has written for this long is removed when another is written
 * (kbc_prune); a temporary file this old was left by a writer that was killed */
#define KBC_STALE_S ((int64_t)30 * 24 * 3600)
#define KBC_TMP_STALE_S ((int64_t)24 * 3600)

/* ---- checksum and build id ---- */

/* A 64-bit checksum of P[0..N): four lanes of eight bytes a step, folded, then the rest
 * eight bytes a step and a finaliser. Each step (xor the word in, multiply by an odd
 * constant, rotate) is a bijection of its lane, so one changed word always changes the
 * sum; the rotation carries what the multiplication gathered in the high bits back to
 * the low ones. Not cryptographic; it tells a damaged file from a whole one. A warm start
 * reads megabytes through it, hence the lanes and three instructions a word. */
static inline uint64_t kbc_step(uint64_t l, uint64_t w)
{
	l = (l ^ w) * 0x9E3779B97F4A7C15ull;
	return l << 27 | l >> 37;
}

uint64_t kbc_hash(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0x6A09E667F3BCC908ull ^ n;
	size_t i = 0;
	if (n >= 32) {
		uint64_t l0 = h, l1 = h ^ 0xBB67AE8584CAA73Bull, l2 = h ^ 0x3C6EF372FE94F82Bull,
		         l3 = h ^ 0xA54FF53A5F1D36F1ull;
		for (; i + 32 <= n; i += 32) {
			uint64_t w0, w1, w2, w3;
			memcpy(&w0, p + i, 8);
			memcpy(&w1, p + i + 8, 8);
			memcpy(&w2, p + i + 16, 8);
			memcpy(&w3, p + i + 24, 8);
			l0 = kbc_step(l0, w0);
			l1 = kbc_step(l1, w1);
			l2 = kbc_step(l2, w2);
			l3 = kbc_step(l3, w3);
		}
		uint64_t lanes[3] = { l1, l2, l3 };
		h = l0;
		for (int k = 0; k < 3; k++) {
			h = (h ^ lanes[k]) * 0x9E3779B97F4A7C15ull;
			h ^= h >> 31;
		}
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * 0x9E3779B97F4A7C15ull;
		h ^= h >> 31;
	}
	uint64_t w = 0;
	if (i < n)      /* DATA may be NULL when N is 0 */
		memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0x9E3779B97F4A7C15ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

typedef struct {
	char *buf;
	size_t size;
	bool found;
} kbc_idsearch;

/* dl_iterate_phdr visits the program first: the GNU build-id note of its segments. */
static int kbc_note_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	kbc_idsearch *s = data;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum && !s->found; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		size_t left = ph->p_memsz;
		while (left >= sizeof(ElfW(Nhdr))) {
			ElfW(Nhdr) nh;
			memcpy(&nh, p, sizeof(nh));
			size_t name = (nh.n_namesz + 3) & ~(size_t)3;
			size_t desc = (nh.n_descsz + 3) & ~(size_t)3;
			if (name > left - sizeof(nh) || desc > left - sizeof(nh) - name)
				break;
			const unsigned char *np = p + sizeof(nh), *dp = np + name;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp(np, "GNU", 4) == 0 && nh.n_descsz * 2 + 1 < s->size) {
				for (size_t k = 0; k < nh.n_descsz; k++)
					snprintf(s->buf + 2 * k, 3, "%02x", dp[k]);
				s->found = true;
				break;
			}
			p += sizeof(nh) + name + desc;
			left -= sizeof(nh) + name + desc;
		}
	}
	return 1;       /* the program only */
}

/* What identifies this program's build: its GNU build id, else the size and time of the
 * running executable (a new build is a new file). */
static const char *kbc_build_id(char *buf, size_t size)
{
	kbc_idsearch s = { buf, size, false };
	dl_iterate_phdr(kbc_note_cb, &s);
	if (s.found)
		return buf;
	struct stat sb;
	if (stat("/proc/self/exe", &sb) == 0)
		snprintf(buf, size, "exe %lld %lld.%09ld", (long long)sb.st_size,
		         (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
	else
		snprintf(buf, size, "unknown build");
	return buf;
}

/* ---- files ---- */

void kbc_file_set(kbc_file *f, const struct stat *sb)
{
	f->size = (uint64_t)sb->st_size;
	f->ino = (uint64_t)sb->st_ino;
	f->dev = (uint64_t)sb->st_dev;
	f->mtime_s = (int64_t)sb->st_mtim.tv_sec;
	f->mtime_ns = (uint32_t)sb->st_mtim.tv_nsec;
	f->ctime_s = (int64_t)sb->st_ctim.tv_sec;
	f->ctime_ns = (uint32_t)sb->st_ctim.tv_nsec;
}

kbc_time kbc_now(void)
{
	struct timespec ts;
	kbc_time t = { 0, 0 };
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		t.s = (int64_t)ts.tv_sec;
		t.ns = (uint32_t)ts.tv_nsec;
	}
	return t;
}

/* Whether a file with time S (seconds) may have changed without its times showing it, after
 * it was looked at, at SEEN: file times come from a coarse clock (a tick of a few
 * milliseconds, and some file systems keep whole seconds). */
static bool kbc_racy(int64_t s, kbc_time seen)
{
	return s >= seen.s - KBC_RACY_S;
}

/* Whether the file at PATH holds bytes with checksum HASH. */
static bool kbc_same_content(const char *path, uint64_t size, uint64_t hash)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || size > KBC_MAX_BYTES) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	unsigned char *buf = malloc(size ? (size_t)size : 1);
	size_t n = 0;
	while (buf && n < size) {
		ssize_t r = read(fd, buf + n, (size_t)size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	char extra;
	bool same = buf && n == size && read(fd, &extra, 1) == 0 && kbc_hash(buf, n) == hash;
	free(buf);
	close(fd);
	return same;
}

char *kbc_path(const char *cache_dir, const char *dir)
{
	if (!cache_dir || !*cache_dir || !dir)
		return NULL;
	char *real = realpath(dir, NULL);
	if (!real)
		return NULL;
	uint64_t h = kbc_hash((const unsigned char *)real, strlen(real));
	free(real);
	size_t n = strlen(cache_dir) + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s" KBC_NAME_HEAD "%016llx" KBC_NAME_TAIL, cache_dir,
		         cache_dir[strlen(cache_dir) - 1] == '/' ? "" : "/", (unsigned long long)h);
	return p;
}

/* ---- reading ---- */

/* A string: u32 length, the bytes, a NUL. NULL when it does not fit or has no NUL. */
static const char *kbc_str(byte_cur *c)
{
	uint32_t n = byte_u32(c);
	const unsigned char *p = n < UINT32_MAX ? byte_take(c, (size_t)n + 1) : NULL;
	if (!p || p[n] != '\0' || memchr(p, '\0', n)) {
		c->bad = true;
		return NULL;
	}
	return (const char *)p;
}

static bool kbc_str_is(byte_cur *c, const char *want)
{
	const char *s = kbc_str(c);
	return s && strcmp(s, want) == 0;
}

/* A section of the file: where it is, its length and its checksum. */
typedef struct {
	const unsigned char *p;
	size_t len;
	uint64_t sum;
} kbc_sec;

struct kbc {
	const unsigned char *buf;       /* the file, mapped */
	size_t len;
	char *path;             /* the file, for kbc_damaged */
	int fd;                 /* the file, for kbc_copy; -1: closed */
	uint64_t dev, ino;
	kbc_sec *img;
	const unsigned char **given_img;        /* img[i].p once given, for kbc_release_doc */
	kbc_sec *deps;
	kbc_sec *trees;         /* each file's rules' own trees (eng_doc_serialize_rules) */
	uint64_t *hash;         /* of each file's contents, as recorded */
	size_t nfiles, given;
	const char **srcs;      /* each pattern's source, in the section SRCSEC */
	kbc_sec srcsec;
	int srcs_state;         /* kbc_sources_ok: 0 not yet checked, 1 whole, -1 damaged */
	kbc_sec *code;          /* each pattern's bytes past the common head */
	rx_store *store;
	rxlit *needs;           /* what each pattern needs, given with it */
	rxlit_table *words;     /* the words they read in place */
	kbc_sec app;            /* the image of the sources, catalog and lexicon */
	size_t nneeds, npats, next;
	bool missed;
	bool refused;           /* kbc_refused: complete or not, the file is written anew */
};

/* Gives the pages of P[0..LEN), a part of the mapped file read already, back to the system:
 * read again, they come back from the file (which is never changed in place). Most of what
 * a warm run reads is then copied (the prefilter's words) or read once (the catalog, the
 * lexicon): keeping it all mapped was a third of a question's peak memory. A kernel that
 * maps the page cache in large folios maps them back whole (up to 2 MB) when one of their
 * pages is read again, so what stays released is the runs nothing reads later. */
static void kbc_release(const kbc *c, const unsigned char *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t to = ((uintptr_t)p + len) & ~(page - 1);
	if (!c || !p || page == 0 || (page & (page - 1)) || to <= from ||
	    p < c->buf || p + len > c->buf + c->len)
		return;
	(void)madvise((void *)from, to - from, MADV_DONTNEED);
}

/* Maps LEN bytes of FD read-only where the kernel cannot map them 2 MB at a time: at an
 * address one page off the 2 MB boundaries of the file's offsets. A page cache kept in
 * large folios is otherwise mapped a whole folio at the first touch, which made 6 MB of
 * an 8.5 MB cache file resident for a question that reads a fraction of it. Pages are
 * mapped as they are touched, without the readahead's neighbours (MADV_RANDOM). Returns
 * MAP_FAILED when it cannot map them. */
static void *kbc_map_pages(int fd, size_t len)
{
	const size_t huge = (size_t)2 << 20;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (page == 0 || (page & (page - 1)) || page >= huge || len > SIZE_MAX - 2 * huge)
		return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	/* a reservation large enough to hold the file one page past a 2 MB boundary */
	size_t span = len + 2 * huge;
	unsigned char *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	uintptr_t at = (((uintptr_t)r + huge - 1) & ~(uintptr_t)(huge - 1)) + page;
	void *p = mmap((void *)at, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		munmap(r, span);
		return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	}
	/* give back the reservation around the file's pages */
	size_t end = (at - (uintptr_t)r) + ((len + page - 1) & ~(page - 1));
	if (at > (uintptr_t)r)
		munmap(r, at - (uintptr_t)r);
	if (end < span)
		munmap(r + end, span - end);
	(void)madvise(p, len, MADV_RANDOM);
	return p;
}

/* Maps all of PATH (a regular file of ours, KBC_HEADER to KBC_MAX_BYTES bytes) read-only,
 * with its identity in *SB; NULL otherwise. Mapped rather than read: nothing is copied,
 * and a page is read from the file only when something needs it (a question needs few of
 * the compiled patterns). mlarch never changes a cache file in place (kbc_write renames a
 * new one over it), so the mapping keeps the file that was opened. */
static const unsigned char *kbc_map(const char *path, size_t *len, struct stat *sb, int *fdp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *p = MAP_FAILED;
	if (fstat(fd, sb) == 0 && S_ISREG(sb->st_mode) && sb->st_uid == geteuid() &&
	    sb->st_size >= (off_t)KBC_HEADER && (uint64_t)sb->st_size <= KBC_MAX_BYTES)
		p = kbc_map_pages(fd, (size_t)sb->st_size);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	*fdp = fd;
	*len = (size_t)sb->st_size;
	return p;
}

/* Copies FROM[0..LEN), a part of the mapped file, to OUT with a read of the file rather
 * than through the mapping: a compiled pattern is read once, and a page of a mapping
 * brings its neighbours in with it (the kernel maps the page cache in folios of up to
 * 2 MB), which for a question's few dozen patterns was 2.6 MB of memory. */
static bool kbc_copy(void *ctx, unsigned char *out, const unsigned char *from, size_t len)
{
	const kbc *c = ctx;
	if (c->fd < 0 || from < c->buf || len > c->len || (size_t)(from - c->buf) > c->len - len)
		return false;
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(c->fd, out + done, len - done,
		                  (off_t)((size_t)(from - c->buf) + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		done += (size_t)r;
	}
	return true;
}

/* Checks the header of BUF[0..LEN) and the checksum of the table it leads to; the
 * table's length in *TABLEN. */
static bool kbc_header_ok(const unsigned char *buf, size_t len, size_t *tablen)
{
	uint32_t format, bom;
	uint64_t total, tlen, sum, zero;
	memcpy(&format, buf + KBC_AT_FORMAT, 4);
	memcpy(&bom, buf + KBC_AT_BOM, 4);
	memcpy(&total, buf + KBC_AT_TOTAL, 8);
	memcpy(&tlen, buf + KBC_AT_TABLEN, 8);
	memcpy(&sum, buf + KBC_AT_TABSUM, 8);
	memcpy(&zero, buf + KBC_AT_ZERO, 8);
	if (memcmp(buf, KBC_MAGIC, 8) != 0 || format != KBC_FORMAT || bom != KBC_BOM ||
	    total != len || zero != 0 || tlen > len - KBC_HEADER)
		return false;
	*tablen = (size_t)tlen;
	return sum == kbc_hash(buf + KBC_HEADER, (size_t)tlen);
}

/* A section reference of the table: offset from the data's start, length and checksum.
 * The cursor goes bad when it does not lie within the data, DATA[0..DLEN). */
static kbc_sec kbc_sec_read(byte_cur *c, const unsigned char *data, size_t dlen)
{
	kbc_sec s = { NULL, 0, 0 };
	uint64_t off = byte_u64(c), len = byte_u64(c);
	s.sum = byte_u64(c);
	if (off > dlen || len > dlen - off) {
		c->bad = true;
		return s;
	}
	s.p = data + off;
	s.len = (size_t)len;
	return s;
}

/* Whether section S still has its checksum: read the first time it is used. */
static bool kbc_sec_ok(const kbc_sec *s)
{
	return s->p && kbc_hash(s->p, s->len) == s->sum;
}

/* Whether the file entry at C is FILES[I] as it is on disk; its sections go to K. */
static bool kbc_entry_ok(byte_cur *c, const kbc_file *f, kbc *k, size_t i, kbc_time seen,
                         const unsigned char *data, size_t dlen)
{
	bool same = kbc_str_is(c, f->rel);
	same = byte_u64(c) == f->size && same;
	same = byte_u64(c) == f->ino && same;
	same = byte_u64(c) == f->dev && same;
	same = (int64_t)byte_u64(c) == f->mtime_s && same;
	same = byte_u32(c) == f->mtime_ns && same;
	same = (int64_t)byte_u64(c) == f->ctime_s && same;
	same = byte_u32(c) == f->ctime_ns && same;
	uint64_t hash = byte_u64(c);
	k->hash[i] = hash;
	k->img[i] = kbc_sec_read(c, data, dlen);
	k->deps[i] = kbc_sec_read(c, data, dlen);
	k->trees[i] = kbc_sec_read(c, data, dlen);
	if (same && !c->bad && (kbc_racy(f->mtime_s, seen) || kbc_racy(f->ctime_s, seen)))
		same = kbc_same_content(f->path, f->size, hash);
	return same && !c->bad;
}

/* C's file was found damaged after it was opened: it goes, unless another run has
 * replaced it already, so that the next run writes it anew; a load still going writes
 * it itself. */
static void kbc_unlink(kbc *c)
{
	struct stat sb;
	c->refused = true;
	if (c->path && stat(c->path, &sb) == 0 && (uint64_t)sb.st_dev == c->dev &&
	    (uint64_t)sb.st_ino == c->ino)
		(void)unlink(c->path);
}

bool kbc_sources_ok(kbc *c)
{
	if (!c)
		return false;
	if (c->srcs_state == 0) {
		c->srcs_state = kbc_sec_ok(&c->srcsec) ? 1 : -1;
		if (c->srcs_state < 0)
			kbc_unlink(c);
	}
	return c->srcs_state > 0;
}

/* A section of the file was found damaged after it was opened (a stored pattern's bytes,
 * when it first ran, or a prefilter requirement): the file goes (kbc_unlink). The pattern
 * is compiled from its source instead, which is checked first, for the sources are not
 * checked when the file is opened. */
static void kbc_damaged(void *ctx)
{
	kbc *c = ctx;
	kbc_unlink(c);
	if (c->store && !kbc_sources_ok(c))
		rx_store_distrust_sources(c->store);
}

/* Points C->srcs at each pattern's source in section SEC, where they follow one another
 * in order, each as many bytes as the table's LENS[i] (NPATS numbers of 4 bytes, in the
 * file's byte order, which its mark checked) and a NUL. Only the section's last byte is
 * read here:
 * however damaged the section, each source ends at a NUL within it, and what they say is
 * checked (kbc_sources_ok) only where something trusts them. False when the lengths do
 * not fill the section. */
static bool kbc_sources_place(kbc *c, const unsigned char *lens, const kbc_sec *sec,
                              uint32_t npats)
{
	size_t off = 0;
	for (uint32_t i = 0; i < npats; i++) {
		uint32_t len;
		memcpy(&len, lens + 4 * (size_t)i, 4);
		if (sec->len - off <= len)
			return false;
		c->srcs[i] = (const char *)sec->p + off;
		off += (size_t)len + 1;
	}
	c->srcsec = *sec;
	return off == sec->len && (off == 0 || sec->p[off - 1] == '\0');
}

kbc *kbc_open(const char *path, const char *dir, const kbc_file *files, size_t n)
{
	if (!path || !dir || (n && !files))
		return NULL;
	size_t len = 0, tablen = 0;
	struct stat sb;
	int fd = -1;
	const unsigned char *buf = kbc_map(path, &len, &sb, &fd);
	if (!buf)
		return NULL;
	kbc *k = calloc(1, sizeof(*k));
	char *real = realpath(dir, NULL);
	char id[KBC_ID_MAX], rxid[KBC_ID_MAX];
	bool ok = k && real && kbc_header_ok(buf, len, &tablen);
	if (k) {
		k->buf = buf;
		k->len = len;
		k->fd = fd;
	}
	if (ok) {
		k->path = strdup(path);
		k->dev = (uint64_t)sb.st_dev;
		k->ino = (uint64_t)sb.st_ino;
		k->nfiles = n;
		k->img = calloc(n ? n : 1, sizeof(*k->img));
		k->given_img = calloc(n ? n : 1, sizeof(*k->given_img));
		k->deps = calloc(n ? n : 1, sizeof(*k->deps));
		k->trees = calloc(n ? n : 1, sizeof(*k->trees));
		k->hash = calloc(n ? n : 1, sizeof(*k->hash));
		ok = k->path && k->img && k->given_img && k->deps && k->trees && k->hash;
	}
	/* the table, checksummed with the header; the sections it points to, in the data
	 * after it, are checked when first used */
	size_t tabend = KBC_HEADER + tablen;
	size_t dstart = ok ? KBC_ALIGN(tabend) : len;
	const unsigned char *data = buf + (dstart < len ? dstart : len);
	size_t dlen = dstart < len ? len - dstart : 0;
	byte_cur c = { buf, tabend, KBC_HEADER, false };
	ok = ok && kbc_str_is(&c, kbc_build_id(id, sizeof(id))) &&
	     kbc_str_is(&c, rx_build_id(rxid, sizeof(rxid))) && kbc_str_is(&c, real);
	kbc_time seen = { 0, 0 };
	seen.s = (int64_t)byte_u64(&c);
	seen.ns = byte_u32(&c);
	ok = ok && byte_u32(&c) == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = kbc_entry_ok(&c, &files[i], k, i, seen, data, dlen);
	uint32_t npats = ok ? byte_u32(&c) : 0;
	const unsigned char *lens = NULL;       /* each source's length */
	if (ok && npats) {
		ok = npats <= (tabend - c.off) / 28;    /* a length and a section: 28 bytes */
		if (ok) {
			k->srcs = calloc(npats, sizeof(*k->srcs));
			k->code = calloc(npats, sizeof(*k->code));
			k->needs = calloc(npats, sizeof(*k->needs));
			ok = k->srcs && k->code && k->needs;
			if (ok)
				k->nneeds = npats;
		}
		lens = ok ? byte_take(&c, (size_t)npats * 4) : NULL;
		ok = ok && lens;
	}
	kbc_sec needs = kbc_sec_read(&c, data, dlen);
	kbc_sec head = kbc_sec_read(&c, data, dlen);
	kbc_sec app = kbc_sec_read(&c, data, dlen);
	kbc_sec srcs = kbc_sec_read(&c, data, dlen);
	for (uint32_t i = 0; ok && i < npats; i++)
		k->code[i] = kbc_sec_read(&c, data, dlen);
	ok = ok && !c.bad && c.off == tabend &&
	     (npats || (needs.len == 0 && head.len == 0 && app.len == 0 && srcs.len == 0));
	ok = ok && kbc_sources_place(k, lens, &srcs, npats);
	if (ok)
		k->app = app;
	/* every question's prefilter reads the words, and every pattern begins with the
	 * head: both are checked now; the words are read in place, not copied */
	ok = ok && kbc_sec_ok(&needs) && kbc_sec_ok(&head);
	if (ok && npats)
		ok = (k->words = rxlit_table_open(needs.p, needs.len, npats, k->needs)) != NULL;
	/* a requirement is checked as it is read: one that is not is reported as a pattern is */
	if (ok && npats)
		rxlit_table_on_damage(k->words, kbc_damaged, k);
	if (ok && npats) {
		k->store = rx_store_new(head.p, head.len, kbc_hash, kbc_copy, kbc_damaged, k);
		if (k->store)
			k->npats = npats;
		else
			k->missed = true;       /* the trees still save the parsing */
	}
	free(real);
	if (!ok) {
		kbc_close(k);
		if (!k) {
			munmap((void *)buf, len);
			close(fd);
		}
		return NULL;
	}
	return k;
}

eng_doc *kbc_doc(kbc *c, size_t i, const char *name, const eng_doc_limits *limits)
{
	if (!c || i >= c->nfiles || !c->img[i].p) {
		if (c)
			c->missed = true;
		return NULL;
	}
	const kbc_sec *s = &c->img[i];
	eng_doc *doc = kbc_sec_ok(s) ? eng_doc_deserialize_borrowed(name, s->p, s->len, name,
	                                                             limits, NULL)
	                             : NULL;
	c->given_img[i] = s->p;
	c->img[i].p = NULL;     /* given (or failed) once */
	if (doc)
		c->given++;
	else
		c->missed = true;
	return doc;
}

bool kbc_has_rules(const kbc *c, size_t i)
{
	return c && i < c->nfiles && (c->deps[i].len || c->trees[i].len);
}

const void *kbc_trees(kbc *c, size_t i, size_t *len)
{
	*len = 0;
	if (!c || i >= c->nfiles || !c->trees[i].len)
		return NULL;
	/* not checked whole: each rule's tree has its own checksum, which the engine checks
	 * when it first reads the tree (a question reads a few of them) */
	*len = c->trees[i].len;
	return c->trees[i].p;
}

void kbc_drop(kbc *c)
{
	if (c)
		kbc_damaged(c);
}

const void *kbc_deps(kbc *c, size_t i, size_t *len)
{
	*len = 0;
	if (!c || i >= c->nfiles || !c->deps[i].len)
		return NULL;
	if (!kbc_sec_ok(&c->deps[i])) {
		c->missed = true;       /* the rules load from their tree; the file is written anew */
		return NULL;
	}
	*len = c->deps[i].len;
	return c->deps[i].p;
}

rx *kbc_pattern(kbc *c, const char *pattern)
{
	if (!c)
		return NULL;
	if (c->missed || c->next >= c->npats || strcmp(c->srcs[c->next], pattern) != 0) {
		c->missed = true;
		return NULL;
	}
	const kbc_sec *s = &c->code[c->next];
	rx *r = rx_stored(c->store, s->p, s->len, s->sum, c->srcs[c->next]);
	if (!r) {
		c->missed = true;
		return NULL;
	}
	rx_set_need(r, &c->needs[c->next]);
	c->next++;
	if (c->next == c->npats)        /* the sources were only compared */
		kbc_release(c, c->srcsec.p, c->srcsec.len);
	return r;
}

rx *kbc_pattern_at(kbc *c, size_t i, const char **src)
{
	*src = NULL;
	if (!c || i >= c->npats)
		return NULL;
	const kbc_sec *s = &c->code[i];
	rx *r = rx_stored(c->store, s->p, s->len, s->sum, c->srcs[i]);
	if (!r)
		return NULL;
	rx_set_need(r, &c->needs[i]);
	*src = c->srcs[i];
	if (i == c->next)
		c->next++;
	return r;
}

size_t kbc_npats(const kbc *c)
{
	return c ? c->npats : 0;
}

void kbc_skip_doc(kbc *c, size_t i)
{
	if (c && i < c->nfiles && c->img[i].p) {
		c->img[i].p = NULL;
		c->given++;
	}
}

const void *kbc_app(kbc *c, size_t *len)
{
	*len = 0;
	if (!c || !c->app.len)
		return NULL;
	if (!kbc_sec_ok(&c->app)) {
		c->refused = true;      /* the lexicon loads from its trees; written anew */
		return NULL;
	}
	*len = c->app.len;
	return c->app.p;
}

void kbc_release_doc(kbc *c, size_t i)
{
	if (c && i < c->nfiles && c->given_img[i])
		kbc_release(c, c->given_img[i], c->img[i].len);
}

uint64_t kbc_file_hash(const kbc *c, size_t i)
{
	return c && i < c->nfiles ? c->hash[i] : 0;
}

void kbc_refused(kbc *c)
{
	/* not missed: the patterns still come from the cache, so that they can be written
	 * with it */
	if (c)
		c->refused = true;
}

bool kbc_complete(const kbc *c)
{
	return c && !c->missed && !c->refused && c->given == c->nfiles && c->next == c->npats;
}

void kbc_close(kbc *c)
{
	if (!c)
		return;
	rx_store_close(c->store);
	for (size_t i = 0; i < c->nneeds; i++)
		rxlit_free(&c->needs[i]);
	free(c->code);
	free(c->needs);
	rxlit_table_free(c->words);
	free(c->srcs);
	free(c->img);
	free(c->given_img);
	free(c->deps);
	free(c->trees);
	free(c->hash);
	free(c->path);
	if (c->buf)
		munmap((void *)c->buf, c->len);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Sets the checksum of the section whose reference is at C (which it reads past) to
 * that of its bytes now. */
static void kbc_reseal_sec(byte_cur *c, unsigned char *buf, const unsigned char *data,
                           size_t dlen)
{
	size_t at = c->off;
	kbc_sec s = kbc_sec_read(c, data, dlen);
	if (!c->bad) {
		uint64_t sum = kbc_hash(s.p, s.len);
		memcpy(buf + at + KBC_SEC_REF - 8, &sum, sizeof(sum));
	}
}

bool kbc_reseal(unsigned char *buf, size_t len)
{
	uint64_t tlen;
	if (!buf || len < KBC_HEADER)
		return false;
	memcpy(&tlen, buf + KBC_AT_TABLEN, 8);
	if (tlen > len - KBC_HEADER)
		return false;
	size_t tabend = KBC_HEADER + (size_t)tlen, dstart = KBC_ALIGN(tabend);
	const unsigned char *data = buf + (dstart < len ? dstart : len);
	size_t dlen = dstart < len ? len - dstart : 0;
	byte_cur c = { buf, tabend, KBC_HEADER, false };
	kbc_str(&c);
	kbc_str(&c);
	kbc_str(&c);
	byte_take(&c, 12);
	uint32_t n = byte_u32(&c);
	for (uint32_t i = 0; i < n && !c.bad; i++) {
		kbc_str(&c);
		byte_take(&c, KBC_ENTRY_FIXED);
		kbc_reseal_sec(&c, buf, data, dlen);
		kbc_reseal_sec(&c, buf, data, dlen);
		kbc_reseal_sec(&c, buf, data, dlen);
	}
	uint32_t npats = byte_u32(&c);
	byte_take(&c, (size_t)npats * 4);       /* the sources' lengths */
	for (uint32_t i = 0; i < npats + 4 && !c.bad; i++)
		kbc_reseal_sec(&c, buf, data, dlen);
	uint64_t sum = kbc_hash(buf + KBC_HEADER, (size_t)tlen);
	memcpy(buf + KBC_AT_TABSUM, &sum, sizeof(sum));
	return !c.bad && c.off == tabend;
}

/* ---- writing ---- */

typedef byte_buf kbc_buf;

static void kbc_put(kbc_buf *b, const void *data, size_t n)
{
	byte_put(b, data, n);
}

static void kbc_put_u32(kbc_buf *b, uint32_t v)
{
	kbc_put(b, &v, sizeof(v));
}

static void kbc_put_u64(kbc_buf *b, uint64_t v)
{
	kbc_put(b, &v, sizeof(v));
}

static void kbc_put_str(kbc_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (n >= UINT32_MAX) {
		b->nomem = true;
		return;
	}
	kbc_put_u32(b, (uint32_t)n);
	kbc_put(b, s, n + 1);
}

/* Puts P[0..N) in the data D, at an offset aligned to 8, and its reference (offset, length,
 * checksum) in the table T. */
static void kbc_put_sec(kbc_buf *t, kbc_buf *d, const unsigned char *p, size_t n)
{
	static const unsigned char pad[8];
	kbc_put(d, pad, KBC_ALIGN(d->n) - d->n);
	kbc_put_u64(t, d->n);
	kbc_put_u64(t, n);
	kbc_put_u64(t, kbc_hash(p, n));
	kbc_put(d, p, n);
}

/* Creates the folders leading to file PATH. Errors show up when the file is created. */
static void kbc_mkdirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		(void)mkdir(p, 0777);
		*s = '/';
	}
	free(p);
}

/* Writes BUF to a temporary file beside PATH and renames it into place. */
static bool kbc_replace(const char *path, const unsigned char *buf, size_t len)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 48);
	if (!tmp)
		return false;
	/* O_EXCL below: should two writers ever pick one name, the second just writes no
	 * cache this time */
	snprintf(tmp, pl + 48, "%s" KBC_NAME_TMP "%ld.%u", path, (long)getpid(), (unsigned)kbc_now().ns);
	/* a stopped run leaves no temporary file behind: signals wait for the rename */
	sigset_t old;
	kbc_signals_hold(&old);
	bool ok = false;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0) {
		size_t done = 0;
		while (done < len) {
			ssize_t w = write(fd, buf + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		ok = close(fd) == 0 && done == len && rename(tmp, path) == 0;
		if (!ok)
			unlink(tmp);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(tmp);
	return ok;
}

void kbc_signals_hold(sigset_t *old)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, old);
}

/* Whether NAME is a cache file's name as kbc_path makes it, or, when TMP, one of
 * kbc_replace's temporary files. */
static bool kbc_cache_name(const char *name, bool tmp)
{
	size_t h = strlen(KBC_NAME_HEAD), t = strlen(KBC_NAME_TAIL);
	if (strncmp(name, KBC_NAME_HEAD, h) != 0)
		return false;
	for (size_t i = h; i < h + 16; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	const char *rest = name + h + 16;
	if (strncmp(rest, KBC_NAME_TAIL, t) != 0)
		return false;
	rest += t;
	return tmp ? strncmp(rest, KBC_NAME_TMP, strlen(KBC_NAME_TMP)) == 0 &&
	             rest[strlen(KBC_NAME_TMP)] != '\0'
	           : *rest == '\0';
}

/* Removes, from the folder of cache file PATH, the other cache files not written for 30
 * days before NOW_S and temporary files of kbc_replace older than a day: the caches of rules
 * folders long gone or long unused (one still in use is written again on its next run).
 * Errors are ignored: nothing depends on it. */
static void kbc_prune(const char *path, int64_t now_s)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash)
		return;
	char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d) {
		free(dir);
		return;
	}
	int fd = dirfd(d);
	for (struct dirent *e; (e = readdir(d));) {
		bool tmp = kbc_cache_name(e->d_name, true);
		if ((!tmp && !kbc_cache_name(e->d_name, false)) || strcmp(e->d_name, slash + 1) == 0)
			continue;
		struct stat sb;
		if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if ((int64_t)sb.st_mtime < now_s - (tmp ? KBC_TMP_STALE_S : KBC_STALE_S))
			(void)unlinkat(fd, e->d_name, 0);
	}
	closedir(d);
	free(dir);
}

bool kbc_write(const char *path, const char *dir, kbc_time seen, const kbc_file *files,
               eng_doc *const *docs, unsigned char *const *deps, const size_t *depslen,
               size_t n, rx *const *pats, const char *const *srcs, size_t npats,
               const unsigned char *app, size_t applen)
{
	if (!path || !dir || n > UINT32_MAX || npats > UINT32_MAX)
		return false;
	char *real = realpath(dir, NULL);
	if (!real)
		return false;
	char id[KBC_ID_MAX], rxid[KBC_ID_MAX];
	kbc_buf b = { NULL, 0, 0, false };      /* the header and the table */
	kbc_buf d = { NULL, 0, 0, false };      /* the sections */
	unsigned char zero[KBC_HEADER] = { 0 };
	kbc_put(&b, zero, sizeof(zero));
	kbc_put_str(&b, kbc_build_id(id, sizeof(id)));
	kbc_put_str(&b, rx_build_id(rxid, sizeof(rxid)));
	kbc_put_str(&b, real);
	free(real);
	kbc_put_u64(&b, (uint64_t)seen.s);
	kbc_put_u32(&b, seen.ns);
	kbc_put_u32(&b, (uint32_t)n);
	for (size_t i = 0; i < n && !b.nomem; i++) {
		const kbc_file *f = &files[i];
		unsigned char *img = NULL, *trees = NULL;
		size_t len = 0, tlen = 0;
		if (eng_doc_serialize_rules(docs[i], &img, &len, &trees, &tlen) != ENG_OK) {
			b.nomem = true;
			break;
		}
		kbc_put_str(&b, f->rel);
		kbc_put_u64(&b, f->size);
		kbc_put_u64(&b, f->ino);
		kbc_put_u64(&b, f->dev);
		kbc_put_u64(&b, (uint64_t)f->mtime_s);
		kbc_put_u32(&b, f->mtime_ns);
		kbc_put_u64(&b, (uint64_t)f->ctime_s);
		kbc_put_u32(&b, f->ctime_ns);
		kbc_put_u64(&b, f->hash);
		kbc_put_sec(&b, &d, img, len);
		kbc_put_sec(&b, &d, deps[i], depslen[i]);
		kbc_put_sec(&b, &d, trees, tlen);
		free(img);
		free(trees);
	}
	/* each source's length in the table, the sources in a section of their own: a warm
	 * load reads none of them (kbc_sources_place) */
	kbc_put_u32(&b, (uint32_t)npats);
	kbc_buf sb = { NULL, 0, 0, false };
	for (size_t i = 0; i < npats; i++) {
		size_t sl = strlen(srcs[i]);
		if (sl >= UINT32_MAX)
			b.nomem = true;
		kbc_put_u32(&b, (uint32_t)sl);
		kbc_put(&sb, srcs[i], sl + 1);
	}
	if (sb.nomem)
		b.nomem = true;
	const rxlit **need = malloc((npats ? npats : 1) * sizeof(*need));
	unsigned char *needs = NULL;
	size_t nlen = 0;
	for (size_t i = 0; need && i < npats; i++)
		need[i] = rx_need(pats[i]);
	if (!need || (npats && !rxlit_table_encode(need, npats, &needs, &nlen)))
		b.nomem = true;
	kbc_put_sec(&b, &d, needs, nlen);
	free(needs);
	free(need);
	/* each pattern alone, as PCRE2 encodes it; the head they all begin with once */
	unsigned char **code = calloc(npats ? npats : 1, sizeof(*code));
	size_t *clen = calloc(npats ? npats : 1, sizeof(*clen));
	size_t head = 0;
	if (!code || !clen)
		b.nomem = true;
	for (size_t i = 0; i < npats && !b.nomem; i++) {
		if (!rx_encode(pats[i], &code[i], &clen[i]))
			b.nomem = true;
		else if (i == 0)
			head = clen[0];
		else
			for (size_t k = 0; k < head; k++)
				if (k >= clen[i] || code[i][k] != code[0][k]) {
					head = k;
					break;
				}
	}
	bool coded = npats && !b.nomem;
	kbc_put_sec(&b, &d, coded ? code[0] : NULL, coded ? head : 0);
	kbc_put_sec(&b, &d, app, app ? applen : 0);
	kbc_put_sec(&b, &d, sb.p, sb.n);
	free(sb.p);
	for (size_t i = 0; i < npats && !b.nomem; i++)
		kbc_put_sec(&b, &d, code[i] + head, clen[i] - head);
	for (size_t i = 0; code && i < npats; i++)
		free(code[i]);
	free(code);
	free(clen);
	bool ok = false;
	size_t tablen = b.n - KBC_HEADER;
	kbc_put(&b, zero, KBC_ALIGN(b.n) - b.n);
	kbc_put(&b, d.p, d.n);
	if (!b.nomem && !d.nomem) {
		uint32_t format = KBC_FORMAT, bom = KBC_BOM;
		uint64_t total = b.n, tlen = tablen, sum = kbc_hash(b.p + KBC_HEADER, tablen);
		memcpy(b.p, KBC_MAGIC, 8);
		memcpy(b.p + KBC_AT_FORMAT, &format, 4);
		memcpy(b.p + KBC_AT_BOM, &bom, 4);
		memcpy(b.p + KBC_AT_TOTAL, &total, 8);
		memcpy(b.p + KBC_AT_TABLEN, &tlen, 8);
		memcpy(b.p + KBC_AT_TABSUM, &sum, 8);
		kbc_mkdirs(path);
		ok = kbc_replace(path, b.p, b.n);
		if (ok)
			kbc_prune(path, kbc_now().s);
	}
	free(b.p);
	free(d.p);
	return ok;
}
