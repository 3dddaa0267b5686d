/* SPDX-License-Identifier: BSD-3-Clause */
/* The Internet checksum (base/csum.h) against a plain RFC 1071 loop over
 * every length from 0 to 300 at every start alignment, a chain of pieces
 * split at odd places, the pseudo-header sum of a known frame, and the
 * byte-order helpers (base/bytes.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/csum.h"

/* RFC 1071, 16 bits at a time, big-endian words, folded, not complemented. */
static uint16_t ref_be(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	size_t i;

	srand(seed);
	for (i = 0; i < n; i++)
		b[i] = (uint8_t)rand();
}

START_TEST(every_length_and_alignment)
{
	uint8_t buf[320 + 8];
	size_t off, n;

	fill(buf, sizeof(buf), 1);
	for (off = 0; off < 8; off++)
		for (n = 0; n <= 300; n++)
			ck_assert_uint_eq(vnet_csum_be(buf + off, n), ref_be(buf + off, n));
	memset(buf, 0xff, sizeof(buf)); /* the fold's worst case */
	for (n = 0; n <= 300; n++)
		ck_assert_uint_eq(vnet_csum_be(buf + 1, n), ref_be(buf + 1, n));
}
END_TEST

START_TEST(pieces_split_anywhere)
{
	uint8_t buf[1500];
	unsigned cut1, cut2;

	fill(buf, sizeof(buf), 2);
	for (cut1 = 0; cut1 < 40; cut1++)
		for (cut2 = cut1; cut2 < cut1 + 41; cut2 += 3) {
			uint32_t sum = 0, odd = 0;

			sum = vnet_csum_add_piece(sum, &odd, buf, cut1);
			sum = vnet_csum_add_piece(sum, &odd, buf + cut1, cut2 - cut1);
			sum = vnet_csum_add_piece(sum, &odd, buf + cut2, sizeof(buf) - cut2);
			ck_assert_uint_eq(vnet_csum_fold(sum), ref_be(buf, sizeof(buf)));
		}
}
END_TEST

/* IPv4 10.0.0.1 -> 10.0.0.2, TCP, 20 bytes of header: the sum of the
 * addresses, the protocol and the length, worked out by hand. */
START_TEST(pseudo_header)
{
	uint8_t ip[40] = {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
	uint8_t ip6[40] = {0x60};

	ck_assert_uint_eq(vnet_csum_pseudo(ip, 0, 6, 20), 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
	ip6[8 + 15] = 1;  /* ::1 */
	ip6[24 + 15] = 2; /* ::2 */
	ip6[8] = 0xff;    /* ff00::1, to carry */
	ip6[24] = 0xff;
	ck_assert_uint_eq(vnet_csum_pseudo(ip6, 1, 17, 0x12345),
	                  vnet_csum_fold(0xff00u + 1 + 0xff00u + 2 + 17 + 1 + 0x2345));
}
END_TEST

START_TEST(byte_order)
{
	uint8_t b[4];

	vnet_put_be16(b, 0x1234);
	ck_assert(b[0] == 0x12 && b[1] == 0x34 && vnet_get_be16(b) == 0x1234);
	vnet_put_le16(b, 0x1234);
	ck_assert(b[0] == 0x34 && b[1] == 0x12 && vnet_get_le16(b) == 0x1234);
	vnet_put_be32(b, 0x01020304);
	ck_assert(b[0] == 1 && b[3] == 4 && vnet_get_be32(b) == 0x01020304);
	vnet_put_le32(b, 0x01020304);
	ck_assert(b[0] == 4 && b[3] == 1 && vnet_get_le32(b) == 0x01020304);
	ck_assert_uint_eq(vnet_swap16(0xabcd), 0xcdab);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csum");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, every_length_and_alignment);
	tcase_add_test(tc, pieces_split_anywhere);
	tcase_add_test(tc, pseudo_header);
	tcase_add_test(tc, byte_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
