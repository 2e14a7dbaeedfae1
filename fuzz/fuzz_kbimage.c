/* SPDX-License-Identifier: MIT */
/*
 * fuzz_kbimage.c - the image of the sources, catalog and lexicon in the compiled cache
 * (src/kb_image.c). The cache's checksum catches damage, not a file made on purpose, so
 * the checker must refuse whatever kbi_write cannot have written before a load skips any
 * file: the first byte
 * picks how many files (0 to 7) the load has, the rest is the image, checked against a
 * cache of 64 patterns. Accepted bytes name only files that exist, in increasing order.
 */
#include "fuzz.h"

#include "kb_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t nfiles = data[0] % 8;
	kbi im;
	if (!kbi_check(data + 1, size - 1, nfiles, 64, &im))
		return 0;
	FUZZ_CHECK(im.nonly <= nfiles, "more files given whole than there are");
	for (uint32_t i = 0; i < im.nonly; i++) {
		FUZZ_CHECK(kbi_only_file(&im, i) < nfiles, "a file past the files");
		FUZZ_CHECK(i == 0 || kbi_only_file(&im, i) > kbi_only_file(&im, i - 1),
		           "files out of order");
	}
	FUZZ_CHECK(im.len <= size - 1 && im.at <= im.len, "parts past the image");
	/* every truncation of an accepted image is refused */
	for (size_t cut = 0; cut < size - 1; cut++)
		FUZZ_CHECK(!kbi_check(data + 1, cut, nfiles, 64, &im), "a truncated image accepted");
	return 0;
}
