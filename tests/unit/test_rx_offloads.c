/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive offloads switched at run time (VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
 * spec 5.1.6.5.6.1) through the driver and the device model: what gets
 * negotiated and when, the refusals of vnet_dev_set_rx_offloads(), and,
 * with counters and content, that a TSO frame sent over the loopback
 * model arrives whole while GUEST_TSO4 is on, cut into checksummed
 * MTU-sized segments while it is off, without DATA_VALID while GUEST_CSUM
 * is off, and that what the application set survives a device reset and
 * a lost control command; the RX checksum flags follow what is in force
 * even from a device that ignores the command.
 */
#include <errno.h>

#include "testutil.h"
#include "base/bytes.h"
#include "base/csum.h"
#include "transport/transport.h"

#define F_BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define F_OFFLOADS                                                                                 \
	(VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF | \
	 VNET_F_CTRL_VQ | VNET_F_CTRL_GUEST_OFFLOADS)
#define CSUM VNET_F_GUEST_CSUM
#define TSO4 VNET_F_GUEST_TSO4

#define PAYLOAD 8000u /* one TSO frame's TCP payload */
#define MSS 1448u
#define HDRS 54u      /* Ethernet + IPv4 + TCP */
#define NSEG ((PAYLOAD + MSS - 1) / MSS)
#define SEQ0 1000u

/* The model offers everything below (GUEST_TSO6 too); the driver asks
 * for @want (0: F_OFFLOADS). Loopback, DATA_VALID on verified frames. */
static void open_rig(struct rig *r, uint64_t offer, uint64_t want)
{
	struct vnet_model_conf mc = {.features = F_BASE | F_OFFLOADS | VNET_F_GUEST_TSO6 | offer,
	                             .rx_csum = VNET_MODEL_RX_CSUM_VALID};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | (want ? want : F_OFFLOADS)};

	ck_assert_int_eq(rig_open(r, &mc, &dc, 1024, 1), 0);
}

static struct vnet_model_state state(const struct rig *r)
{
	struct vnet_model_state st;

	vnet_model_get_state(r->m, &st);
	return st;
}

static struct vnet_model_stats mstats(const struct rig *r)
{
	struct vnet_model_stats s;

	vnet_model_stats(r->m, &s);
	return s;
}

static uint8_t pay(uint32_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* A TCP/IPv4 frame of @plen payload bytes into @b: the TCP checksum
 * field holds the pseudo-header sum (@partial) or the checksum. */
static void fill_tcp(struct vnet_buf *b, uint32_t plen, bool partial)
{
	static const uint8_t eth[14] = {0x52, 0x54, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 9, 0x08, 0x00};
	uint8_t *f = b->data, *ip = f + 14, *tcp = ip + 20;
	uint32_t i;

	memset(f, 0, HDRS);
	memcpy(f, eth, 14);
	ip[0] = 0x45;
	vnet_put_be16(ip + 2, (uint16_t)(40 + plen));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	vnet_put_be32(ip + 12, 0x0a000001);
	vnet_put_be32(ip + 16, 0x0a000002);
	vnet_put_be16(ip + 10, (uint16_t)~vnet_csum_be(ip, 20));
	vnet_put_be16(tcp, 1234);
	vnet_put_be16(tcp + 2, 80);
	vnet_put_be32(tcp + 4, SEQ0);
	tcp[12] = 0x50;
	tcp[13] = 0x18; /* ACK PSH */
	vnet_put_be16(tcp + 14, 65535);
	for (i = 0; i < plen; i++)
		f[HDRS + i] = pay(i);
	vnet_put_be16(tcp + 16, partial ? vnet_csum_pseudo(ip, 0, 6, 20 + plen) : 0);
	if (!partial)
		vnet_put_be16(tcp + 16, (uint16_t)~vnet_csum_fold((uint32_t)vnet_csum_pseudo(ip, 0, 6, 20 + plen) +
		                                                  vnet_csum_be(tcp, 20 + plen)));
	b->len = HDRS + plen;
}

/* One TSO frame (TCP/IPv4, PAYLOAD bytes, gso_size MSS) from @big, sent
 * with NEEDS_CSUM and the pseudo-header sum in the checksum field. */
static void send_tso(struct rig *r, struct vnet_pool *big)
{
	struct vnet_buf *b = vnet_buf_alloc(big);
	struct vnet_net_hdr *h;

	ck_assert_ptr_nonnull(b);
	fill_tcp(b, PAYLOAD, true);
	h = vnet_buf_hdr(b, vnet_dev_hdr_len(r->dev));
	memset(h, 0, vnet_dev_hdr_len(r->dev));
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->gso_type = VNET_HDR_GSO_TCPV4;
	h->hdr_len = HDRS;
	h->gso_size = MSS;
	h->csum_start = 34;
	h->csum_offset = 16;
	b->flags = VNET_BUF_F_TX_HDR;
	ck_assert_uint_eq(vnet_tx_burst(r->dev, 0, &b, 1), 1);
}

/* What arrived for one TSO frame. */
struct got {
	uint32_t frames, large, data_valid, needs_csum, longest;
	uint8_t payload[PAYLOAD];
	uint32_t payload_bytes;
};

/* Copy a received frame (a chain with MRG_RXBUF) into @f. @return length. */
static uint32_t linearise(const struct vnet_buf *b, uint8_t *f, uint32_t cap)
{
	uint32_t n = b->nb_segs, off = 0;

	for (uint32_t i = 0; i < n && b; i++, b = b->next) {
		ck_assert_uint_le(off + b->len, cap);
		memcpy(f + off, b->data, b->len);
		off += b->len;
	}
	return off;
}

/* One received frame: its header, checksums and where its payload goes. */
static void take(struct rig *r, struct vnet_buf *b, struct got *g)
{
	static uint8_t f[HDRS + PAYLOAD + 64];
	struct vnet_net_hdr h;
	uint32_t len = linearise(b, f, sizeof(f)), seq, plen;
	const uint8_t *ip = f + 14, *tcp = ip + 20;

	vnet_buf_hdr_read(b, vnet_dev_hdr_len(r->dev), &h);
	ck_assert_uint_ge(len, HDRS);
	ck_assert_uint_eq(vnet_get_be16(ip + 2) + 14u, len);
	plen = len - HDRS;
	seq = vnet_get_be32(tcp + 4);
	ck_assert_uint_ge(seq, SEQ0);
	ck_assert_uint_le(seq - SEQ0 + plen, PAYLOAD);
	memcpy(g->payload + (seq - SEQ0), f + HDRS, plen);
	g->payload_bytes += plen;
	g->frames++;
	if (len > g->longest)
		g->longest = len;
	if (h.gso_type != VNET_HDR_GSO_NONE) {
		ck_assert_uint_eq(h.gso_type, VNET_HDR_GSO_TCPV4);
		ck_assert_uint_eq(h.gso_size, MSS);
		g->large++;
	}
	if (b->flags & VNET_BUF_F_DATA_VALID)
		g->data_valid++;
	if (b->flags & VNET_BUF_F_NEEDS_CSUM) {
		g->needs_csum++;
	} else {
		/* complete: IP header and TCP over the pseudo-header */
		ck_assert_uint_eq(vnet_csum_be(ip, 20), 0xffff);
		ck_assert_uint_eq(vnet_csum_fold((uint32_t)vnet_csum_pseudo(ip, 0, 6, len - 34) +
		                                 vnet_csum_be(tcp, len - 34)), 0xffff);
	}
}

/* Send one TSO frame through the loopback model and collect what comes
 * back; every payload byte must be there, in place. */
static void round_trip(struct rig *r, struct vnet_pool *big, struct got *g)
{
	struct vnet_buf *in[32];

	memset(g, 0, sizeof(*g));
	send_tso(r, big);
	for (int polls = 0; polls < 8 && g->payload_bytes < PAYLOAD; polls++) {
		uint16_t n;

		vnet_model_poll(r->m);
		n = vnet_rx_burst(r->dev, 0, in, 32);
		for (uint16_t i = 0; i < n; i++) {
			take(r, in[i], g);
			vnet_buf_free_chain(in[i]);
		}
		vnet_rx_refill(r->dev, 0);
	}
	vnet_tx_reclaim(r->dev, 0);
	ck_assert_uint_eq(g->payload_bytes, PAYLOAD);
	for (uint32_t i = 0; i < PAYLOAD; i++)
		ck_assert_uint_eq(g->payload[i], pay(i));
}

static struct vnet_pool *big_pool(void)
{
	struct vnet_pool_conf pc = {.count = 4, .buf_size = 16384};
	struct vnet_pool *p;

	ck_assert_int_eq(vnet_pool_create(&p, &pc), 0);
	return p;
}

START_TEST(negotiated_with_the_control_queue)
{
	struct vnet_net_config c;
	struct rig r;

	/* asked and offered: negotiated, every negotiated offload in force */
	open_rig(&r, 0, 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert(c.features & VNET_F_CTRL_GUEST_OFFLOADS);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM | TSO4);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM | TSO4);
	rig_close(&r);

	/* not asked: the negotiated offloads stay, the call says so */
	open_rig(&r, 0, F_OFFLOADS & ~VNET_F_CTRL_GUEST_OFFLOADS);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM | TSO4);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), -ENOTSUP);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM | TSO4);
	rig_close(&r);

	/* without the control queue (spec 5.1.3.1) it goes too */
	open_rig(&r, 0, F_OFFLOADS & ~VNET_F_CTRL_VQ);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(c.features & (VNET_F_CTRL_VQ | VNET_F_CTRL_GUEST_OFFLOADS), 0);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), -ENOTSUP);
	rig_close(&r);

	/* the packed ring's control queue carries it too */
	open_rig(&r, VNET_F_RING_PACKED, F_OFFLOADS | VNET_F_RING_PACKED);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert(c.features & VNET_F_RING_PACKED);
	ck_assert_uint_eq(c.features & (VNET_F_CTRL_VQ | VNET_F_CTRL_GUEST_OFFLOADS),
	                  VNET_F_CTRL_VQ | VNET_F_CTRL_GUEST_OFFLOADS);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), 0);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM);
	rig_close(&r);
	ck_assert_uint_eq(vnet_dev_rx_offloads(NULL), 0);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(NULL, 0), -ENOTSUP);
}
END_TEST

START_TEST(refusals_send_nothing)
{
	struct rig r;
	uint64_t cmds;

	open_rig(&r, 0, 0);
	cmds = mstats(&r).ctrl_cmds;
	/* offered, not negotiated */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM | VNET_F_GUEST_TSO6), -EINVAL);
	/* not a receive offload */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM | VNET_F_HOST_TSO4), -EINVAL);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM | VNET_F_MRG_RXBUF), -EINVAL);
	/* GUEST_ECN (bit 9), in the spec's list, never negotiated here */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM | TSO4 | (1ULL << 9)), -EINVAL);
	/* TSO4 needs the checksum offload (spec 5.1.3.1) */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, TSO4), -EINVAL);
	ck_assert_uint_eq(mstats(&r).ctrl_cmds, cmds);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM | TSO4);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM | TSO4);
	/* accepted: one command each, the device follows */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, 0), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, 0);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM | TSO4), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM | TSO4);
	ck_assert_uint_eq(mstats(&r).ctrl_cmds, cmds + 2);
	ck_assert_uint_eq(mstats(&r).ctrl_errs, 0);
	rig_close(&r);
}
END_TEST

/* TSO on, off (checksums on), all off, on again: the frames that arrive
 * show each, and so do the model's counters. */
START_TEST(large_segments_follow_the_switch)
{
	struct vnet_pool *big = big_pool();
	struct vnet_model_stats s0, s1;
	struct got *g = malloc(sizeof(*g));
	struct rig r;

	ck_assert_ptr_nonnull(g);
	open_rig(&r, 0, 0);
	/* on: one large segment, whole, its checksum left partial */
	round_trip(&r, big, g);
	ck_assert_uint_eq(g->frames, 1);
	ck_assert_uint_eq(g->large, 1);
	ck_assert_uint_eq(g->needs_csum, 1);
	ck_assert_uint_eq(g->longest, HDRS + PAYLOAD);
	s0 = mstats(&r);
	ck_assert_uint_eq(s0.rx_gso, 1);
	ck_assert_uint_eq(s0.tx_tso_segs, 0);

	/* GUEST_TSO4 off: MTU-sized segments, complete checksums the device
	 * verified (DATA_VALID: GUEST_CSUM stays on) */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), 0);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM);
	round_trip(&r, big, g);
	ck_assert_uint_eq(g->frames, NSEG);
	ck_assert_uint_eq(g->large, 0);
	ck_assert_uint_eq(g->needs_csum, 0);
	ck_assert_uint_eq(g->data_valid, NSEG);
	ck_assert_uint_le(g->longest, 1514);
	s1 = mstats(&r);
	ck_assert_uint_eq(s1.rx_gso, s0.rx_gso);
	ck_assert_uint_eq(s1.tx_tso_segs, NSEG);
	ck_assert_uint_eq(s1.rx_data_valid - s0.rx_data_valid, NSEG);

	/* all off: segments again, and no DATA_VALID reaches the buffers */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, 0), 0);
	round_trip(&r, big, g);
	ck_assert_uint_eq(g->frames, NSEG);
	ck_assert_uint_eq(g->large + g->needs_csum + g->data_valid, 0);
	s0 = mstats(&r);
	ck_assert_uint_eq(s0.rx_gso, s1.rx_gso);
	ck_assert_uint_eq(s0.rx_data_valid, s1.rx_data_valid);
	ck_assert_uint_eq(s0.tx_tso_segs, 2 * NSEG);

	/* on again: whole again */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM | TSO4), 0);
	round_trip(&r, big, g);
	ck_assert_uint_eq(g->frames, 1);
	ck_assert_uint_eq(g->large, 1);
	ck_assert_uint_eq(mstats(&r).rx_gso, 2);
	ck_assert_uint_eq(mstats(&r).tx_tso_segs, 2 * NSEG);
	rig_close(&r);
	ck_assert_int_eq(vnet_pool_destroy(big), 0);
	free(g);
}
END_TEST

/* A device reset turns every offload on again (spec 5.1.6.5.6.1): the
 * driver's recovery sends what the application set. */
START_TEST(set_again_after_device_reset)
{
	struct vnet_pool *big = big_pool();
	struct got *g = malloc(sizeof(*g));
	uint64_t resets;
	struct rig r;

	ck_assert_ptr_nonnull(g);
	open_rig(&r, 0, 0);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), 0);
	resets = mstats(&r).resets;
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_uint_gt(mstats(&r).resets, resets);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM);
	round_trip(&r, big, g);
	ck_assert_uint_eq(g->frames, NSEG);
	ck_assert_uint_eq(g->large, 0);
	ck_assert_uint_eq(mstats(&r).rx_gso, 0);
	rig_close(&r);
	ck_assert_int_eq(vnet_pool_destroy(big), 0);
	free(g);
}
END_TEST

/* A SET the device never answers (it cannot reach memory): only what is
 * on either way counts as in force; the control queue's reset alone
 * (RING_RESET) sends it again. */
START_TEST(lost_command_sent_again)
{
	struct vnet_transport *t;
	uint64_t resets, qresets;
	struct rig r;

	open_rig(&r, VNET_F_RING_RESET, F_OFFLOADS | VNET_F_RING_RESET);
	t = vnet_model_transport(r.m);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, 0), 0);
	t->ops->bus_master(t, false);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), -ETIMEDOUT);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, 0);
	t->ops->bus_master(t, true);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	resets = mstats(&r).resets;
	qresets = mstats(&r).queue_resets;
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_uint_eq(mstats(&r).resets, resets);
	ck_assert_uint_eq(mstats(&r).queue_resets, qresets + 1);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM);
	rig_close(&r);
}
END_TEST

/* A device that answers after the wait gave up: the driver trusts only
 * what is on either way, sends nothing more on the broken queue (the late
 * completion is never read), and the recovery sends the SET again, after
 * which both sides agree and frames flow. */
START_TEST(late_answer_after_timeout)
{
	struct vnet_transport *t;
	uint64_t cmds;
	struct rig r;

	open_rig(&r, 0, 0);
	t = vnet_model_transport(r.m);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, 0), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, 0);
	t->ops->bus_master(t, false);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), -ETIMEDOUT);
	cmds = mstats(&r).ctrl_cmds;
	/* the device comes back and answers the command it had */
	t->ops->bus_master(t, true);
	vnet_model_poll(r.m);
	ck_assert_uint_eq(mstats(&r).ctrl_cmds, cmds + 1);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM); /* taken, late */
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), 0); /* not trusted */
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	/* nothing more goes on that queue */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, 0), -EIO);
	vnet_model_poll(r.m);
	ck_assert_uint_eq(mstats(&r).ctrl_cmds, cmds + 1);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), 0);
	/* a recovery brings both sides to what was last asked for */
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, 0);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), 0);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, CSUM), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM);
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), CSUM);
	rig_close(&r);
}
END_TEST

/* A device that acks the SET and goes on (VNET_FAULT_OFFLOADS_IGNORED):
 * it still marks verified frames DATA_VALID, the driver passes none of
 * that on while GUEST_CSUM is off. */
START_TEST(flags_follow_what_is_in_force)
{
	struct vnet_buf *b, *in[4];
	uint64_t valid;
	uint16_t n = 0;
	struct rig r;

	open_rig(&r, 0, 0);
	vnet_model_fault(r.m, VNET_FAULT_OFFLOADS_IGNORED, 1);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(r.dev, 0), 0);
	ck_assert_uint_eq(state(&r).rx_offloads, CSUM | TSO4); /* ignored */
	ck_assert_uint_eq(vnet_dev_rx_offloads(r.dev), 0);
	valid = mstats(&r).rx_data_valid;
	b = vnet_buf_alloc(r.pool);
	fill_tcp(b, 300, false);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, &b, 1), 1);
	for (int i = 0; i < 8 && n == 0; i++) {
		vnet_model_poll(r.m);
		n = vnet_rx_burst(r.dev, 0, in, 4);
	}
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(mstats(&r).rx_data_valid, valid + 1); /* the device said so */
	ck_assert_uint_eq(in[0]->flags, 0);                     /* the driver does not */
	ck_assert_uint_eq(in[0]->len, HDRS + 300);
	for (uint32_t i = 0; i < 300; i++)
		ck_assert_uint_eq(in[0]->data[HDRS + i], pay(i));
	vnet_buf_free_chain(in[0]);
	vnet_rx_refill(r.dev, 0);
	vnet_tx_reclaim(r.dev, 0);
	rig_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rx_offloads");
	TCase *tc = tcase_create("all");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, negotiated_with_the_control_queue);
	tcase_add_test(tc, refusals_send_nothing);
	tcase_add_test(tc, large_segments_follow_the_switch);
	tcase_add_test(tc, set_again_after_device_reset);
	tcase_add_test(tc, lost_command_sent_again);
	tcase_add_test(tc, late_answer_after_timeout);
	tcase_add_test(tc, flags_follow_what_is_in_force);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
