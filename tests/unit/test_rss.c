/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-side scaling and hash report (VIRTIO_NET_F_RSS,
 * VIRTIO_NET_F_HASH_REPORT; spec 5.1.6.4.3, 5.1.6.5.7) through the driver
 * and the device model. The hash the driver hands up must be the Toeplitz
 * hash of the frame's addresses and ports computed here, independently
 * of the model, and equal to the published RSS verification suite's
 * values for its flows; frames must land on the queue the indirection
 * table names; bad arguments and devices with unusable limits get clear
 * errors; a reset re-applies what the application set, and a changed
 * count of queue pairs re-spreads the default table.
 */
#include <errno.h>

#include "testutil.h"
#include "base/bytes.h"

#define F_RSS_DEV                                                                                  \
	(VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX | VNET_F_CTRL_VQ | \
	 VNET_F_MQ | VNET_F_RSS | VNET_F_HASH_REPORT)
#define PAIRS 4
#define UDP4 (VNET_HASH_TYPE_IPV4 | VNET_HASH_TYPE_TCPV4 | VNET_HASH_TYPE_UDPV4)

/* The published RSS verification suite's key (the default key must be it). */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Its IPv4 flows: source, destination (address, port) and the hashes
 * with ports (TCPv4/UDPv4 input) and without (IPv4). */
static const struct vec4 {
	uint8_t src[4], dst[4];
	uint16_t sport, dport;
	uint32_t l4, l3;
} v4[] = {
	{{66, 9, 149, 187}, {161, 142, 100, 80}, 2794, 1766, 0x51ccc178, 0x323e8fc2},
	{{199, 92, 111, 2}, {65, 69, 140, 83}, 14230, 4739, 0xc626b0ea, 0xd718262a},
	{{24, 19, 198, 95}, {12, 22, 207, 184}, 12898, 38024, 0x5c2b394a, 0xd2d0a5de},
	{{38, 27, 205, 30}, {209, 142, 163, 6}, 48228, 2217, 0xafc7327f, 0x82989176},
	{{153, 39, 163, 191}, {202, 188, 127, 2}, 44251, 1303, 0x10e828a2, 0x5d1809c5},
};

/* ... and one IPv6 flow (3ffe:2501:200:1fff::7 port 2794 to
 * 3ffe:2501:200:3::1 port 1766). */
static const uint8_t v6_src[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, [15] = 7};
static const uint8_t v6_dst[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, [15] = 1};
#define V6_L4 0x40207d3du
#define V6_L3 0x2cc18cd5u

/* The Toeplitz hash written here apart from the model's: a 64-bit window
 * slides over the key one input byte at a time. */
static uint32_t toeplitz(const uint8_t *key, uint32_t klen, const uint8_t *in, uint32_t n)
{
	uint64_t win = 0;
	uint32_t h = 0, i, k;

	for (k = 0; k < 8; k++)
		win = win << 8 | (k < klen ? key[k] : 0);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 8; k++)
			if (in[i] & (0x80u >> k))
				h ^= (uint32_t)(win >> (32 - k));
		win = win << 8 | (i + 8 < klen ? key[i + 8] : 0);
	}
	return h;
}

static uint32_t flow_hash(const uint8_t *src, const uint8_t *dst, uint32_t alen, uint16_t sport, uint16_t dport,
                          int ports)
{
	uint8_t in[36];

	memcpy(in, src, alen);
	memcpy(in + alen, dst, alen);
	vnet_put_be16(in + 2 * alen, sport);
	vnet_put_be16(in + 2 * alen + 2, dport);
	return toeplitz(ms_key, sizeof(ms_key), in, 2 * alen + (ports ? 4 : 0));
}

/* Ethernet + IPv4 + TCP or UDP (@proto), 80 bytes; @frag sets MF. */
static uint32_t frame4(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
                       uint8_t proto, int frag)
{
	memset(f, 0, 80);
	memcpy(f, "\x52\x54\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	vnet_put_be16(f + 12, 0x0800);
	f[14] = 0x45;
	vnet_put_be16(f + 16, 66);
	vnet_put_be16(f + 20, frag ? 0x2000 : 0);
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, src, 4);
	memcpy(f + 30, dst, 4);
	vnet_put_be16(f + 34, sport);
	vnet_put_be16(f + 36, dport);
	return 80;
}

static uint32_t frame6(uint8_t *f, uint8_t proto)
{
	memset(f, 0, 100);
	memcpy(f, "\x52\x54\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	vnet_put_be16(f + 12, 0x86dd);
	f[14] = 0x60;
	vnet_put_be16(f + 18, 20);
	f[20] = proto;
	f[21] = 64;
	memcpy(f + 22, v6_src, 16);
	memcpy(f + 38, v6_dst, 16);
	vnet_put_be16(f + 54, 2794);
	vnet_put_be16(f + 56, 1766);
	return 100;
}

/* A model offering @offer (RSS limits as the model has them unless
 * overridden later) with PAIRS pairs; the driver asks for @want. */
static int open_rss(struct rig *r, uint64_t offer, uint64_t want, uint16_t pairs)
{
	struct vnet_model_conf mc = {.features = offer, .max_pairs = PAIRS};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | want, .queue_pairs = pairs};

	return rig_open(r, &mc, &dc, 4096, 1);
}

/* Send @len bytes of @f on pair 0 (the model loops it back to the pair
 * RSS chooses), then find it: @return the RX pair it arrived on, its
 * hash and report in *@hash, *@report (-1: nowhere). */
static int send_find(struct rig *r, const uint8_t *f, uint32_t len, uint32_t *hash, uint16_t *report)
{
	struct vnet_buf *b = vnet_buf_alloc(r->pool), *got[4];
	int where = -1;

	ck_assert_ptr_nonnull(b);
	memcpy(b->data, f, len);
	b->len = len;
	ck_assert_uint_eq(vnet_tx_burst(r->dev, 0, &b, 1), 1);
	vnet_model_poll(r->m);
	for (uint16_t q = 0; q < vnet_dev_queue_pairs(r->dev); q++) {
		uint16_t n = vnet_rx_burst(r->dev, q, got, 4);

		for (uint16_t i = 0; i < n; i++) {
			ck_assert_msg(where < 0, "the frame arrived twice");
			ck_assert_uint_eq(got[i]->len, len);
			ck_assert_mem_eq(got[i]->data, f, len);
			where = q;
			*hash = got[i]->hash_value;
			*report = got[i]->hash_report;
			vnet_buf_free_chain(got[i]);
		}
		vnet_rx_refill(r->dev, q);
	}
	vnet_tx_reclaim(r->dev, 0);
	return where;
}

START_TEST(toeplitz_vectors)
{
	uint8_t in[36];

	/* the hash here and the model's both give the published values */
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		ck_assert_uint_eq(flow_hash(v4[i].src, v4[i].dst, 4, v4[i].sport, v4[i].dport, 1), v4[i].l4);
		ck_assert_uint_eq(flow_hash(v4[i].src, v4[i].dst, 4, 0, 0, 0), v4[i].l3);
		memcpy(in, v4[i].src, 4);
		memcpy(in + 4, v4[i].dst, 4);
		vnet_put_be16(in + 8, v4[i].sport);
		vnet_put_be16(in + 10, v4[i].dport);
		ck_assert_uint_eq(vnet_model_toeplitz(ms_key, 40, in, 12), v4[i].l4);
		ck_assert_uint_eq(vnet_model_toeplitz(ms_key, 40, in, 8), v4[i].l3);
	}
	ck_assert_uint_eq(flow_hash(v6_src, v6_dst, 16, 2794, 1766, 1), V6_L4);
	ck_assert_uint_eq(flow_hash(v6_src, v6_dst, 16, 0, 0, 0), V6_L3);
	ck_assert_mem_eq(vnet_rss_default_key(), ms_key, VNET_RSS_KEY_LEN);
}
END_TEST

START_TEST(negotiated_with_limits)
{
	struct rig r;
	struct vnet_net_config c;

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_RSS | VNET_F_HASH_REPORT, PAIRS), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert(c.features & VNET_F_RSS);
	ck_assert(c.features & VNET_F_HASH_REPORT);
	ck_assert_uint_eq(c.rss_max_key_size, 40);
	ck_assert_uint_eq(c.rss_max_table_len, 128);
	ck_assert_uint_eq(c.hash_types, 0x3f);
	ck_assert_uint_eq(vnet_dev_hdr_len(r.dev), 20);
	rig_close(&r);
	/* not asked for: not negotiated, the 12-byte header, -ENOTSUP */
	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, 0, PAIRS), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert(!(c.features & (VNET_F_RSS | VNET_F_HASH_REPORT)));
	ck_assert_uint_eq(vnet_dev_hdr_len(r.dev), 12);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = UDP4}), -ENOTSUP);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, UDP4, NULL, 0), -ENOTSUP);
	rig_close(&r);
	/* asked for without the control queue their commands need (spec
	 * 5.1.3.1; one pair: no MQ, so no control queue asked for) */
	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_RSS | VNET_F_HASH_REPORT, 1), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert(!(c.features & (VNET_F_RSS | VNET_F_HASH_REPORT | VNET_F_CTRL_VQ)));
	ck_assert_uint_eq(vnet_dev_hdr_len(r.dev), 12);
	rig_close(&r);
}
END_TEST

/* Default configuration: the published flows land on the pair the
 * round-robin table names for their hash, which the driver reports. */
START_TEST(steered_by_default_table)
{
	struct rig r;
	uint8_t f[128];
	uint32_t hash;
	uint16_t report;
	int hit[PAIRS] = {0};

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_RSS | VNET_F_HASH_REPORT, PAIRS), 0);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = UDP4 | VNET_HASH_TYPE_TCPV6}), 0);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		uint32_t len = frame4(f, v4[i].src, v4[i].dst, v4[i].sport, v4[i].dport, i & 1 ? 6 : 17, 0);
		int q = send_find(&r, f, len, &hash, &report);

		ck_assert_uint_eq(hash, v4[i].l4);
		ck_assert_uint_eq(report, i & 1 ? VNET_HASH_REPORT_TCPV4 : VNET_HASH_REPORT_UDPV4);
		/* default table: entry e names pair e % PAIRS, 128 entries */
		ck_assert_int_eq(q, (int)((hash & 127) % PAIRS));
		hit[q]++;
		/* a fragment hashes the addresses only */
		len = frame4(f, v4[i].src, v4[i].dst, v4[i].sport, v4[i].dport, 17, 1);
		q = send_find(&r, f, len, &hash, &report);
		ck_assert_uint_eq(hash, v4[i].l3);
		ck_assert_uint_eq(report, VNET_HASH_REPORT_IPV4);
		ck_assert_int_eq(q, (int)((hash & 127) % PAIRS));
	}
	/* many flows of the hash computed here: every pair gets some */
	for (uint16_t port = 1000; port < 1064; port++) {
		uint8_t s[4] = {10, 99, 0, 1}, d[4] = {10, 99, 0, 2};
		int q = send_find(&r, f, frame4(f, s, d, port, 9, 17, 0), &hash, &report);

		ck_assert_uint_eq(hash, flow_hash(s, d, 4, port, 9, 1));
		ck_assert_int_eq(q, (int)((hash & 127) % PAIRS));
		hit[q]++;
	}
	for (int q = 0; q < PAIRS; q++)
		ck_assert_int_gt(hit[q], 0);
	/* IPv6: TCPv6 enabled, UDPv6 and IPv6 not: no hash, unclassified (0) */
	ck_assert_int_eq(send_find(&r, f, frame6(f, 6), &hash, &report), (int)((V6_L4 & 127) % PAIRS));
	ck_assert_uint_eq(hash, V6_L4);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_TCPV6);
	ck_assert_int_eq(send_find(&r, f, frame6(f, 17), &hash, &report), 0);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_NONE);
	ck_assert_uint_eq(hash, 0);
	rig_close(&r);
}
END_TEST

/* An explicit table and key: everything to pair 2; unclassified to 3. */
START_TEST(steered_by_given_table)
{
	static const uint8_t key[52] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	                                21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40};
	uint16_t table[8] = {2, 2, 2, 2, 2, 2, 2, 2}, report;
	struct vnet_model_state st;
	struct rig r;
	uint8_t f[128], arp[60] = {0x52, 0x54, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06};
	uint32_t hash, len;

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_RSS | VNET_F_HASH_REPORT, PAIRS), 0);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = UDP4, .key = key, .key_len = 40,
	                                                                 .table = table, .table_len = 8,
	                                                                 .unclassified = 3}), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.rss && st.hash_report);
	ck_assert_uint_eq(st.rss_table_len, 8);
	ck_assert_uint_eq(st.rss_key_len, 40);
	ck_assert_mem_eq(st.rss_key, key, 40);
	for (uint16_t port = 2000; port < 2032; port++) {
		uint8_t s[4] = {192, 0, 2, 1}, d[4] = {192, 0, 2, 2}, in[12];

		len = frame4(f, s, d, port, 80, 6, 0);
		ck_assert_int_eq(send_find(&r, f, len, &hash, &report), 2);
		memcpy(in, s, 4);
		memcpy(in + 4, d, 4);
		vnet_put_be16(in + 8, port);
		vnet_put_be16(in + 10, 80);
		ck_assert_uint_eq(hash, toeplitz(key, 40, in, 12));
		ck_assert_uint_eq(report, VNET_HASH_REPORT_TCPV4);
	}
	ck_assert_int_eq(send_find(&r, arp, sizeof(arp), &hash, &report), 3);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_NONE);
	/* RSS off: automatic steering (the model keeps a frame on its pair) */
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, NULL), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(!st.rss && !st.hash_report);
	ck_assert_int_eq(send_find(&r, f, len, &hash, &report), 0);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_NONE);
	rig_close(&r);
}
END_TEST

/* Every argument outside the device's limits: -EINVAL, nothing sent,
 * the configuration in force kept. */
START_TEST(bad_configs_refused)
{
	static const uint8_t key[64];
	uint16_t t4[4] = {0, 1, 2, 3}, bad[4] = {0, 1, 4, 0}, t256[256] = {0};
	struct vnet_model_stats before, after;
	struct vnet_model_state st;
	struct rig r;

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_RSS | VNET_F_HASH_REPORT, PAIRS), 0);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = UDP4, .table = t4,
	                                                                 .table_len = 4}), 0);
	vnet_model_stats(r.m, &before);
	/* a type the device does not support (IP_EX), or none the spec has */
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = VNET_HASH_TYPE_IP_EX}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = 1u << 9}), -EINVAL);
	/* keys: longer than rss_max_key_size, empty, a length without a key */
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.key = key, .key_len = 41}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.key = key, .key_len = 0}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.key_len = 40}), -EINVAL);
	/* tables: not a power of two, longer than the device's 128, no table
	 * for a length, no length for a table, an entry or unclassified
	 * beyond the pairs in use */
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.table = t4, .table_len = 3}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.table = t256, .table_len = 256}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.table_len = 4}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.table = t4}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.table = bad, .table_len = 4}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.unclassified = PAIRS}), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, VNET_HASH_TYPE_UDP_EX, NULL, 0), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, UDP4, key, 41), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, UDP4, NULL, 8), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rss(NULL, NULL), -ENOTSUP);
	vnet_model_stats(r.m, &after);
	ck_assert_uint_eq(after.ctrl_cmds, before.ctrl_cmds);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.rss);
	ck_assert_uint_eq(st.rss_table_len, 4);
	for (uint16_t i = 0; i < 4; i++)
		ck_assert_int_eq(vnet_model_rss_entry(r.m, i), t4[i]);
	rig_close(&r);
}
END_TEST

/* A device reset forgets RSS: recovery sends it again; a new count of
 * pairs re-spreads the default table and refuses a given one naming a
 * pair dropped. */
START_TEST(reset_and_pairs_reapply)
{
	uint16_t table[2] = {3, 1}, report;
	struct vnet_model_state st;
	struct rig r;
	uint8_t f[128], s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
	uint32_t hash;

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_RSS | VNET_F_HASH_REPORT, PAIRS), 0);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = UDP4, .table = table,
	                                                                 .table_len = 2}), 0);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.rss);
	ck_assert_uint_eq(st.rss_table_len, 2);
	ck_assert_int_eq(vnet_model_rss_entry(r.m, 0), 3);
	ck_assert_int_eq(vnet_model_rss_entry(r.m, 1), 1);
	ck_assert_uint_eq(st.active_pairs, PAIRS);
	for (uint16_t port = 5000; port < 5016; port++) {
		int q = send_find(&r, f, frame4(f, s, d, port, 9, 17, 0), &hash, &report);

		ck_assert_uint_eq(hash, flow_hash(s, d, 4, port, 9, 1));
		ck_assert_int_eq(q, table[hash & 1]);
	}
	/* the given table names pair 3: not with 2 pairs */
	ck_assert_int_eq(vnet_dev_set_queue_pairs(r.dev, 2), -EINVAL);
	ck_assert_uint_eq(vnet_dev_queue_pairs(r.dev), PAIRS);
	/* the default table follows the pairs in use */
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){.hash_types = UDP4}), 0);
	ck_assert_int_eq(vnet_dev_set_queue_pairs(r.dev, 2), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.rss);
	ck_assert_uint_eq(st.active_pairs, 2);
	for (uint16_t i = 0; i < 128; i++)
		ck_assert_int_eq(vnet_model_rss_entry(r.m, i), i % 2);
	for (uint16_t port = 5000; port < 5016; port++) {
		int q = send_find(&r, f, frame4(f, s, d, port, 9, 17, 0), &hash, &report);

		ck_assert_int_eq(q, (int)((hash & 127) % 2));
	}
	rig_close(&r);
}
END_TEST

/* HASH_REPORT without RSS (HASH_CONFIG): the hash arrives, the queue is
 * the model's own choice (the sender's pair); it survives a reset and a
 * change of pairs (VQ_PAIRS_SET would turn it off: sent again). */
START_TEST(hash_report_alone)
{
	struct vnet_model_state st;
	struct vnet_queue_stats qs;
	struct rig r;
	uint8_t f[128];
	uint32_t hash;
	uint16_t report;

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV, VNET_F_HASH_REPORT, 2), 0);
	ck_assert_uint_eq(vnet_dev_hdr_len(r.dev), 20);
	ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){0}), -ENOTSUP);
	/* not configured yet: no hash */
	ck_assert_int_eq(send_find(&r, f, frame4(f, v4[0].src, v4[0].dst, v4[0].sport, v4[0].dport, 17, 0), &hash,
	                           &report), 0);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_NONE);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, VNET_HASH_TYPE_IPV4, NULL, 0), 0);
	ck_assert_int_eq(send_find(&r, f, frame4(f, v4[0].src, v4[0].dst, v4[0].sport, v4[0].dport, 17, 0), &hash,
	                           &report), 0);
	ck_assert_uint_eq(hash, v4[0].l3);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_IPV4);
	ck_assert_int_eq(vnet_dev_set_queue_pairs(r.dev, 1), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.hash_report && !st.rss);
	ck_assert_uint_eq(st.hash_types, VNET_HASH_TYPE_IPV4);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(send_find(&r, f, frame4(f, v4[1].src, v4[1].dst, v4[1].sport, v4[1].dport, 6, 0), &hash,
	                           &report), 0);
	ck_assert_uint_eq(hash, v4[1].l3);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_IPV4);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, true, &qs), 0);
	ck_assert_uint_eq(qs.rx_hashed, 2);
	ck_assert_uint_eq(qs.rx_bad_hash, 0);
	rig_close(&r);
}
END_TEST

/* One queue pair, so no VQ_PAIRS_SET after a reset: the hash
 * configuration is sent again all the same (vnet_rss_restore). */
START_TEST(hash_restored_single_pair)
{
	struct vnet_model_conf mc = {.features = F_RSS_DEV, .max_pairs = PAIRS};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_CTRL_VQ | VNET_F_HASH_REPORT};
	struct vnet_model_state st;
	struct rig r;
	uint8_t f[128];
	uint32_t hash;
	uint16_t report;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 1024, 1), 0);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, VNET_HASH_TYPE_UDPV4, NULL, 0), 0);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.hash_report);
	ck_assert_int_eq(send_find(&r, f, frame4(f, v4[3].src, v4[3].dst, v4[3].sport, v4[3].dport, 17, 0), &hash,
	                           &report), 0);
	ck_assert_uint_eq(hash, v4[3].l4);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_UDPV4);
	rig_close(&r);
}
END_TEST

/* A hostile device: a hash_report the spec does not define is delivered
 * as no hash, and counted. MRG_RXBUF reads the 20-byte header too. */
START_TEST(bad_hash_report_counted)
{
	struct vnet_queue_stats qs;
	struct rig r;
	uint8_t f[128];
	uint32_t hash;
	uint16_t report;

	ck_assert_int_eq(open_rss(&r, F_RSS_DEV | VNET_F_MRG_RXBUF, VNET_F_HASH_REPORT | VNET_F_MRG_RXBUF, 2), 0);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, UDP4, NULL, 0), 0);
	vnet_model_fault(r.m, VNET_FAULT_HASH_REPORT_BAD, 1);
	ck_assert_int_eq(send_find(&r, f, frame4(f, v4[2].src, v4[2].dst, v4[2].sport, v4[2].dport, 17, 0), &hash,
	                           &report), 0);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_NONE);
	ck_assert_uint_eq(hash, 0);
	ck_assert_int_eq(send_find(&r, f, frame4(f, v4[2].src, v4[2].dst, v4[2].sport, v4[2].dport, 17, 0), &hash,
	                           &report), 0);
	ck_assert_uint_eq(report, VNET_HASH_REPORT_UDPV4);
	ck_assert_uint_eq(hash, v4[2].l4);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, true, &qs), 0);
	ck_assert_uint_eq(qs.rx_bad_hash, 1);
	ck_assert_uint_eq(qs.rx_hashed, 1);
	rig_close(&r);
}
END_TEST

/* Devices whose RSS limits break the spec (5.1.4.1): the features go,
 * with the reason logged; the device still opens. */
START_TEST(bad_limits_refused)
{
	static const struct {
		uint32_t off, len;
		uint8_t bytes[4];
		uint64_t kept; /* of RSS | HASH_REPORT */
	} cases[] = {
		{17, 1, {0}, 0},                          /* key size 0 */
		{17, 1, {39}, 0},                         /* key size below 40 */
		{20, 4, {0, 0, 0, 0}, 0},                 /* no hash type */
		{20, 4, {0, 2, 0, 0}, 0},                 /* only a type the spec does not have */
		{18, 2, {100, 0}, VNET_F_HASH_REPORT},    /* table not a power of two */
		{18, 2, {0, 0}, VNET_F_HASH_REPORT},      /* no table */
		{18, 2, {64, 0}, VNET_F_HASH_REPORT},     /* below 128 */
		{18, 2, {0xff, 0xff}, VNET_F_HASH_REPORT},/* above 2^15 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vnet_model_conf mc = {.features = F_RSS_DEV, .max_pairs = PAIRS};
		struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_RSS | VNET_F_HASH_REPORT,
		                           .queue_pairs = 2};
		struct vnet_net_config c;
		struct rig r;

		ck_assert_int_eq(rig_open(&r, &mc, &dc, 4096, 0), 0);
		ck_assert_int_eq(vnet_model_config_override(r.m, cases[i].off, cases[i].bytes, cases[i].len), 0);
		dc.pool = r.pool;
		ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), 0);
		ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
		ck_assert_msg((c.features & (VNET_F_RSS | VNET_F_HASH_REPORT)) == cases[i].kept, "case %zu", i);
		ck_assert_uint_eq(vnet_dev_hdr_len(r.dev), cases[i].kept ? 20 : 12);
		if (!(c.features & VNET_F_RSS))
			ck_assert_int_eq(vnet_dev_set_rss(r.dev, &(struct vnet_rss_conf){0}), -ENOTSUP);
		rig_close(&r);
	}
}
END_TEST

/* RSS needs MQ: a device whose max_virtqueue_pairs costs it MQ does not
 * get RSS either (HASH_REPORT stays); limits the device changes after
 * open are not believed: the accepted ones are kept. */
START_TEST(limits_mq_and_after_open)
{
	struct vnet_model_conf mc = {.features = F_RSS_DEV, .max_pairs = PAIRS};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_CTRL_VQ | VNET_F_MQ | VNET_F_RSS |
	                                       VNET_F_HASH_REPORT};
	static const uint8_t zero2[2], small_key = 8;
	struct vnet_net_config c;
	struct rig r;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 4096, 0), 0);
	ck_assert_int_eq(vnet_model_config_override(r.m, 8, zero2, 2), 0); /* max_virtqueue_pairs 0 */
	dc.pool = r.pool;
	ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(c.features & (VNET_F_MQ | VNET_F_RSS | VNET_F_HASH_REPORT), VNET_F_HASH_REPORT);
	/* a key size below 40 after open: the 40 accepted is kept */
	ck_assert_int_eq(vnet_model_config_override(r.m, 17, &small_key, 1), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(c.rss_max_key_size, 40);
	ck_assert_uint_eq(c.hash_types, 0x3f);
	ck_assert_int_eq(vnet_dev_set_hash(r.dev, VNET_HASH_TYPE_IPV4, NULL, 0), 0);
	rig_close(&r);
}
END_TEST

/* The header rules: HASH_REPORT takes the 20-byte header (an override
 * of another length is refused) and a pool headroom that holds it. */
START_TEST(header_rules)
{
	struct vnet_model_conf mc = {.features = F_RSS_DEV, .max_pairs = PAIRS};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_CTRL_VQ | VNET_F_HASH_REPORT, .hdr_len = 12};
	struct vnet_pool_conf pc = {.count = 1024, .headroom = 16};
	struct vnet_pool *small;
	struct rig r;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 1024, 1), -EINVAL);
	dc.hdr_len = 20;
	dc.pool = r.pool;
	ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), 0);
	ck_assert_uint_eq(vnet_dev_hdr_len(r.dev), 20);
	vnet_dev_close(r.dev);
	ck_assert_int_eq(vnet_pool_create(&small, &pc), 0);
	dc.pool = small;
	dc.hdr_len = 0;
	r.dev = NULL;
	ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), -EINVAL);
	ck_assert_ptr_null(r.dev);
	ck_assert_int_eq(vnet_pool_destroy(small), 0);
	rig_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rss");
	TCase *tc = tcase_create("rss");

	tcase_add_test(tc, toeplitz_vectors);
	tcase_add_test(tc, negotiated_with_limits);
	tcase_add_test(tc, steered_by_default_table);
	tcase_add_test(tc, steered_by_given_table);
	tcase_add_test(tc, bad_configs_refused);
	tcase_add_test(tc, reset_and_pairs_reapply);
	tcase_add_test(tc, hash_report_alone);
	tcase_add_test(tc, hash_restored_single_pair);
	tcase_add_test(tc, bad_hash_report_counted);
	tcase_add_test(tc, bad_limits_refused);
	tcase_add_test(tc, limits_mq_and_after_open);
	tcase_add_test(tc, header_rules);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
