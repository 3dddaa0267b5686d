/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target (d): arbitrary frames with arbitrary virtio-net headers into
 * the lwIP interface. The Interface API (lib/lwip) runs over a device the
 * fuzzer plays (the fuzz device, fuzz_transport.h), with a TCP echo
 * listener (or one that never reads: lwIP then holds the frames), a UDP
 * echo port and the raw-frame hook. Frames are raw bytes, or IPv4 built
 * from the fuzzer's bytes with lengths and checksums made right so that
 * they reach TCP, UDP and ICMP (the checksum check may also be off); the
 * device writes each into the RX ring with a header that is zero,
 * DATA_VALID, a true partial checksum (NEEDS_CSUM, csum_start at the L4
 * header, the pseudo-header sum in the field) with or without a GSO type
 * and size, or any bytes at all (flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset), with num_buffers right or any, spread over
 * buffers of the fuzzer's sizes (MRG_RXBUF). The device negotiates what
 * the input says: GUEST_CSUM, GUEST_TSO4/6, MRG_RXBUF, CSUM and HOST_TSO4/6
 * (TX frames from a jumbo pool), split or packed rings, IN_ORDER,
 * INDIRECT_DESC, the control queue (the device asks for announcements).
 * Every TX frame the interface sends is read back by the device (the
 * fuzzer's next TCP segment can follow B's sequence numbers).
 *
 * Checked after every step: no lwIP assertion fired; the pools' buffers
 * in use == descriptors out + buffers lwIP holds (zero-copy RX) + frames
 * queued for TX; every frame the glue takes from the driver consists of
 * buffers the device completed (the fuzz device's delivery check); after
 * the interface is closed lwIP holds no buffer, and after close every
 * buffer is back.
 *
 * Input: byte 0 the interface's options, byte 1 the device's (H_*; 0: a
 * plain device, as the first version's model), then per frame an op byte,
 * the frame, and (op bit 2, with an offload that reads it) its header.
 */
#include <errno.h>

#include "fuzz_common.h"
#include <vnet/iface.h>

#include "fuzz_transport.h"
#include "lwip/glue.h" /* white box: what the glue holds, without copying every counter */

#define MAX_FRAMES 64
#define IP_A 0x0A000001u
#define IP_B 0x0A000002u
#define FRAME_ROOM 1518u      /* frames up to the MTU */
#define FRAME_ROOM_LRO 9000u  /* large segments (GUEST_TSO) */

/* byte 1: what the device offers and the driver asks for */
#define H_GUEST_CSUM 0x01
#define H_LRO        0x02 /* GUEST_TSO4/6 (with MRG_RXBUF) */
#define H_MRG        0x04
#define H_PACKED     0x08
#define H_IN_ORDER   0x10
#define H_TXOFF      0x20 /* CSUM, HOST_TSO4/6, a jumbo pool */
#define H_CTRL       0x40 /* control queue, GUEST_ANNOUNCE */
#define H_INDIRECT   0x80

struct rig {
	struct ftrans ft;
	struct vnet_pool *pool, *jumbo;
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
	struct vnet_tcp_listener *lis;
	struct vnet_udp *udp;
	bool tcp_reads;     /* the TCP server reads (echoes) or never does */
	bool hook_takes;
	uint64_t asserts0;
	uint32_t b_snd_nxt, b_rcv_nxt; /* from B's last TCP segment */
	bool hdr_fuzz;      /* the glue reads header fields: fuzz them */
	uint32_t checks;
	uint8_t frame[FRAME_ROOM_LRO + 82];
};

static struct rig R;
static const uint8_t MAC_A[6] = {0x52, 0x54, 0, 0, 0, 0x0a};
static const uint8_t MAC_B[6] = {0x52, 0x54, 0, 0, 0, 0x0b};

/* ------------------------------------------------------- application -- */

static void tcp_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	(void)arg;
	if (len == 0)
		vnet_tcp_close(c);
	else
		(void)vnet_tcp_send(c, data, len); /* back-pressure: drop what does not fit */
}

static void tcp_err(struct vnet_tcp *c, int err, void *arg)
{
	(void)c;
	(void)err;
	(void)arg;
}

static void tcp_accept(struct vnet_tcp *c, void *arg)
{
	(void)arg;
	/* No recv callback: lwIP keeps what arrives as refused data. */
	vnet_tcp_set_callbacks(c, R.tcp_reads ? tcp_recv : NULL, NULL, tcp_err, NULL);
}

static void udp_recv(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port,
                     void *arg)
{
	(void)arg;
	(void)vnet_udp_sendto(u, ip, port, data, len);
}

static bool frame_hook(struct vnet_iface *ifc, uint16_t type, const uint8_t *f, uint32_t len, void *arg)
{
	(void)ifc;
	(void)type;
	(void)arg;
	FUZZ_ASSERT(len >= 14 && f != NULL, "hook got %u bytes", (unsigned)len);
	return R.hook_takes;
}

/* ------------------------------------------------------------ frames -- */

static FUZZ_NOCOV uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	int i;

	for (i = 0; i < 4; i++)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An IPv4 frame from the fuzzer's bytes: header fields it chooses,
 * lengths and checksums right (unless it asks for them wrong). */
static uint32_t build_ip(struct fin *in, uint8_t ctl, uint8_t *f, uint32_t room)
{
	static const uint8_t protos[4] = {6, 17, 1, 0};
	uint8_t *ip = f + 14, *l4;
	const uint8_t *src;
	uint32_t plen, ihl = 20, l4len, sum;
	uint8_t psel = fin_u8(in);
	uint8_t proto = protos[psel & 3];

	if (proto == 0)
		proto = fin_u8(in);
	if (ctl & 0x40)
		ihl = 4u * (5u + fin_u8(in) % 11u); /* options, garbage ones */
	memset(ip, 0, ihl); /* options, if any, stay zero: end of list */
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = fin_u8(in);
	put16(ip + 4, fin_u16(in));
	if (ctl & 0x08)
		put16(ip + 6, fin_u16(in)); /* fragments */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, (ctl & 0x10) ? fin_u32(in) : IP_A);
	put32(ip + 16, (ctl & 0x20) ? 0x0A0000FFu : IP_B);
	l4 = ip + ihl;
	plen = fin_u16(in) % (room - 14u - ihl + 1u);
	memset(l4, 0, plen);
	plen = (uint32_t)fin_bytes(in, plen, &src);
	memcpy(l4, src, plen);
	l4len = plen;
	put16(ip + 2, (uint16_t)(ihl + l4len));
	put16(ip + 10, 0);
	put16(ip + 10, fold(sum16(ip, ihl, 0)));
	/* pseudo-header sum for TCP and UDP (RFC 793, 768) */
	sum = sum16(ip + 12, 8, 0) + proto + l4len;
	if (proto == 6 && l4len >= 20) {
		if (!(ctl & 0x80))
			put16(l4 + 2, 80);
		if (psel & 4) {
			/* in step with B's last segment: past the handshake */
			put32(l4 + 4, R.b_rcv_nxt);
			put32(l4 + 8, R.b_snd_nxt);
		}
		put16(l4 + 16, 0);
		put16(l4 + 16, fold(sum16(l4, l4len, sum)));
	} else if (proto == 17 && l4len >= 8) {
		if (!(ctl & 0x80))
			put16(l4 + 2, 7);
		put16(l4 + 4, (uint16_t)l4len);
		put16(l4 + 6, 0);
		put16(l4 + 6, fold(sum16(l4, l4len, sum)));
	} else if (proto == 1 && l4len >= 4) {
		put16(l4 + 2, 0);
		put16(l4 + 2, fold(sum16(l4, l4len, 0)));
	}
	if (ctl & 0x04)
		ip[10] ^= 0x5a; /* a bad IP header checksum now and then */
	return 14u + ihl + l4len;
}

static uint32_t build_frame(struct fin *in, uint8_t *f, uint32_t room)
{
	uint8_t ctl = fin_u8(in);
	const uint8_t *src;
	uint32_t len;

	memcpy(f, (ctl & 2) ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : MAC_B, 6);
	memcpy(f + 6, MAC_A, 6);
	if (ctl & 1) {
		f[12] = 0x08;
		f[13] = 0x00;
		return build_ip(in, ctl, f, room);
	}
	/* raw: ARP-typed now and then, else any ethertype; any bytes */
	put16(f + 12, (ctl & 4) ? 0x0806 : fin_u16(in));
	len = fin_u16(in) % (room + 1u);
	if (len < 14)
		return len; /* a runt, header included */
	len = 14u + (uint32_t)fin_bytes(in, len - 14u, &src);
	memcpy(f + 14, src, len - 14u);
	return len;
}

/* ---------------------------------------------------------- headers -- */

static void le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Where the L4 header of an IPv4 or IPv6 frame starts, and its protocol
 * (0: not TCP/UDP right after the IP header). */
static FUZZ_NOCOV uint32_t l4_of(const uint8_t *f, uint32_t len, uint8_t *proto, bool *v6)
{
	uint32_t ihl;

	*proto = 0;
	*v6 = false;
	if (len < 34)
		return 0;
	if (f[12] == 0x08 && f[13] == 0x00) {
		ihl = (f[14] & 0xfu) * 4u;
		if (ihl < 20 || len < 14 + ihl + 8)
			return 0;
		*proto = f[14 + 9];
		return 14 + ihl;
	}
	if (f[12] == 0x86 && f[13] == 0xdd && len >= 14 + 40 + 8) {
		*v6 = true;
		*proto = f[14 + 6];
		return 14 + 40;
	}
	return 0;
}

/*
 * The header the device writes before frame @f: zero; DATA_VALID; a true
 * partial checksum (the field holds the pseudo-header sum, NEEDS_CSUM,
 * csum_start/offset at it) and maybe a GSO type and size; or any bytes.
 */
static FUZZ_NOCOV void build_hdr(struct fin *in, uint8_t sel, uint8_t *f, uint32_t len, uint8_t h[12])
{
	uint8_t proto;
	bool v6;
	uint32_t l4, off, i, sum;

	memset(h, 0, 12);
	switch (sel & 3) {
	case 0:
		break;
	case 1:
		h[0] = VIRTIO_NET_HDR_F_DATA_VALID;
		break;
	case 2:
		l4 = l4_of(f, len, &proto, &v6);
		if (!l4 || (proto != 6 && proto != 17))
			break;
		off = proto == 6 ? 16u : 6u;
		if (l4 + off + 2 > len)
			break;
		/* the sender left the pseudo-header sum (RFC 793, 768) */
		sum = proto + (len - l4);
		for (i = v6 ? 14 + 8 : 14 + 12; i < (v6 ? 14 + 40u : 14 + 20u); i += 2)
			sum += (uint32_t)f[i] << 8 | f[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(f + l4 + off, (uint16_t)sum);
		h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		le16(h + 6, l4);
		le16(h + 8, off);
		if ((sel & 4) && proto == 6) {
			h[1] = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
			le16(h + 2, l4 + 20u);
			le16(h + 4, fin_u16(in));
		}
		break;
	case 3:
		for (i = 0; i < 10; i++)
			h[i] = fin_u8(in);
		break;
	}
	if (sel & 8) { /* num_buffers: any */
		h[10] = fin_u8(in);
		h[11] = (sel & 0x80) ? fin_u8(in) : 0;
	}
}

/* -------------------------------------------------------------- steps -- */

static void check_asserts(void)
{
	struct vnet_iface_stats st;

	FUZZ_ASSERT(vnet_iface_stats(R.ifc, &st) == 0, "stats");
	FUZZ_ASSERT(st.lwip_asserts == R.asserts0, "an lwIP assertion fired (%llu)",
	            (unsigned long long)(st.lwip_asserts - R.asserts0));
}

static FUZZ_NOCOV void check(void)
{
	/* the glue's own counts (vnet_iface_stats() copies every counter) */
	const struct vnet_netif *vn = (const struct vnet_netif *)(const void *)
		((const char *)vnet_iface_netif(R.ifc) - offsetof(struct vnet_netif, nif));
	uint32_t in_use, out;

	/* both pools: TX frames may come from the jumbo one; the queues'
	 * book-keeping checked on the way */
	in_use = vnet_pool_in_use(R.pool) + (R.jumbo ? vnet_pool_in_use(R.jumbo) : 0);
	out = fuzz_dev_scan(R.dev, NULL, NULL);
	FUZZ_ASSERT(in_use == out + vn->rx_held + vn->tx_n,
	            "pools in use %u != out %u + lwIP holds %u + queued %u", (unsigned)in_use, (unsigned)out,
	            (unsigned)vn->rx_held, (unsigned)vn->tx_n);
	if ((++R.checks & 15) == 0)
		check_asserts(); /* the counter only grows: checked again at the end */
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every frame B sends, as the device reads it: note where B's TCP stands
 * (its next sequence number and what it acknowledged), so that the
 * fuzzer's next segment can be in step. */
static FUZZ_NOCOV void watch_b(struct ftrans *ft, const uint8_t *hdr, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14, *tcp;
	uint32_t ihl, thl, tot, dlen;

	(void)ft;
	(void)hdr;
	if (len < 54 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != 6)
		return;
	ihl = (ip[0] & 0xfu) * 4u;
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot > len - 14u || tot < ihl + 20u)
		return;
	tcp = ip + ihl;
	thl = (uint32_t)(tcp[12] >> 4) * 4u;
	if (thl < 20 || ihl + thl > tot)
		return;
	dlen = tot - ihl - thl;
	R.b_snd_nxt = get32(tcp + 4) + dlen + ((tcp[13] & 0x02) ? 1u : 0u) + ((tcp[13] & 0x01) ? 1u : 0u);
	if (tcp[13] & 0x10)
		R.b_rcv_nxt = get32(tcp + 8);
}

/* One poll of the interface, then the device sends what B queued (the
 * tap watches it) and publishes. */
static void run_steps(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fuzz_clock_step = FUZZ_CLOCK_STEP;
		(void)vnet_iface_poll(R.ifc);
		while (R.ft.q[1].size && (ft_sync(&R.ft, 1), R.ft.q[1].npend))
			ft_tx_complete(&R.ft, 1, R.ft.q[1].npend);
		ft_publish(&R.ft, 1);
		if (vnet_dev_broken(R.dev) == 1) {
			int rc = vnet_dev_recover(R.dev);
			FUZZ_ASSERT(rc == 0 || rc == -ENOBUFS || (R.dev->ctrlq.size && (rc == -EIO || rc == -ETIMEDOUT)),
			            "recover: %d", rc);
		}
		check();
	}
}

static void inject(struct fin *in, uint8_t op, uint8_t *f, uint32_t len)
{
	uint8_t h[12], sel = 0;
	uint32_t seg = 0;

	memset(h, 0, sizeof(h));
	if ((op & 0x04) && R.hdr_fuzz) {
		sel = fin_u8(in);
		build_hdr(in, sel, f, len, h);
		if (sel & 0x10)
			seg = 8u * (1u + fin_u8(in));
	}
	ft_rx_frame(&R.ft, 0, f, len, h, (sel & 8) != 0, sel >> 5, seg);
	ft_publish(&R.ft, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cfg_mac[6] = {0x52, 0x54, 0, 0, 0, 0x0b};
	struct vnet_iface_conf ic = {0};
	struct vnet_iface_stats st;
	struct vnet_pool_conf pc = {.count = 96};
	struct vnet_dev_conf dc = {0};
	struct fin in;
	uint8_t g, hb;
	uint32_t room;
	int k, rc;

	fuzz_env_init();
	fin_init(&in, data, size);
	R.ifc = NULL;
	R.lis = NULL;
	R.udp = NULL;
	R.pool = R.jumbo = NULL;
	R.dev = NULL;
	R.b_snd_nxt = R.b_rcv_nxt = 0;
	g = fin_u8(&in);
	hb = fin_u8(&in);

	/* the device: B's MAC, MTU 1500, link up; offers all, the driver asks
	 * for what byte 1 says */
	ft_init(&R.ft, 64);
	memcpy(R.ft.cfg, cfg_mac, 6);
	R.ft.offer |= VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6 | VNET_F_MRG_RXBUF |
	              VNET_F_RING_PACKED | VNET_F_IN_ORDER | VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6 |
	              VNET_F_CTRL_VQ | VNET_F_GUEST_ANNOUNCE | VNET_F_INDIRECT_DESC;
	R.ft.tap = watch_b;
	R.ft.ctl = &in; /* ANNOUNCE_ACK replies */
	dc.features = VNET_F_DEFAULT & ~VNET_F_IN_ORDER;
	if (hb & H_GUEST_CSUM)
		dc.features |= VNET_F_GUEST_CSUM;
	if (hb & H_LRO)
		dc.features |= VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6 | VNET_F_MRG_RXBUF;
	if (hb & H_MRG)
		dc.features |= VNET_F_MRG_RXBUF;
	if (hb & H_PACKED)
		dc.features |= VNET_F_RING_PACKED;
	if (hb & H_IN_ORDER)
		dc.features |= VNET_F_IN_ORDER;
	if (hb & H_TXOFF)
		dc.features |= VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6;
	if (hb & H_CTRL)
		dc.features |= VNET_F_CTRL_VQ | VNET_F_GUEST_ANNOUNCE;
	if (hb & H_INDIRECT)
		dc.features |= VNET_F_INDIRECT_DESC;
	R.hdr_fuzz = (hb & (H_GUEST_CSUM | H_LRO | H_MRG)) != 0;
	dc.rx_ring_size = dc.tx_ring_size = 32;
	/* the device writes every byte read beyond the headers (frames),
	 * the glue every byte it sends */
	fuzz_dma_scrub_stride = 2048;
	R.pool = fuzz_pool_get(&pc);
	if (hb & H_TXOFF) {
		struct vnet_pool_conf jc = {.count = 4, .buf_size = 65536};
		fuzz_dma_scrub_stride = 65536;
		R.jumbo = fuzz_pool_get(&jc);
	}
	R.ft.pool = R.pool;
	dc.pool = R.pool;
	rc = vnet_dev_open(&R.dev, &R.ft.t, &dc);
	FUZZ_ASSERT(rc == 0, "open: %d", rc);
	R.ft.dev = R.dev;

	ic.ip = IP_B;
	ic.netmask = 0xFFFFFF00u;
	/* a few handles (the default, one per lwIP TCP PCB, is 2048 of them
	 * to allocate and free per input) */
	ic.max_tcp = 16;
	ic.max_listeners = 2;
	ic.max_udp = 2;
	ic.pool = R.pool;
	ic.tx_jumbo_pool = R.jumbo;
	ic.rx_copy = (g & 1) != 0;
	ic.icmp_echo = (g & 2) != 0;
	ic.no_rx_csum_check = (g & 4) != 0;
	ic.rx_reserve = (g & 8) ? 8 : 0; /* low: lwIP may hold most of the pool */
	ic.rx_burst = (uint16_t)(1u + (g >> 4));
	R.tcp_reads = (g & 0x40) == 0;
	R.hook_takes = (g & 0x80) != 0;
	rc = vnet_iface_init_conf(&R.ifc, R.dev, &ic);
	FUZZ_ASSERT(rc == 0, "iface init: %d", rc);
	FUZZ_ASSERT(vnet_iface_stats(R.ifc, &st) == 0, "stats");
	R.asserts0 = st.lwip_asserts;
	FUZZ_ASSERT(vnet_tcp_listen(R.ifc, 80, tcp_accept, NULL, &R.lis) == 0, "listen");
	FUZZ_ASSERT(vnet_udp_bind(R.ifc, 7, udp_recv, NULL, &R.udp) == 0, "udp bind");
	vnet_iface_set_frame_hook(R.ifc, frame_hook, NULL);

	room = (hb & H_LRO) ? FRAME_ROOM_LRO : FRAME_ROOM;
	for (k = 0; k < MAX_FRAMES && fin_more(&in); k++) {
		uint8_t op = fin_u8(&in);
		uint32_t len;

		if ((op & 0x1f) == 0x1f) {
			/* link flap (bit 5); with the control queue, bit 6 asks for
			 * an announcement (the glue acks it there) */
			uint8_t st8 = (op & 0x20) ? VIRTIO_NET_S_LINK_UP : 0;
			if ((op & 0x40) && (hb & H_CTRL))
				st8 |= VIRTIO_NET_S_ANNOUNCE;
			R.ft.cfg[VIRTIO_NET_CFG_STATUS] = st8;
			R.ft.generation++;
			run_steps(1);
			continue;
		}
		len = build_frame(&in, R.frame, room);
		inject(&in, op, R.frame, len);
		run_steps(1 + (op & 3));
	}
	run_steps(2);
	check_asserts();
	vnet_iface_close(R.ifc);
	/* lwIP must have let go of every received frame and queued one */
	FUZZ_ASSERT(vnet_pool_in_use(R.pool) + (R.jumbo ? vnet_pool_in_use(R.jumbo) : 0) ==
	                fuzz_dev_out(R.dev, NULL, NULL),
	            "after the interface closed: %u buffers in use, %u out", (unsigned)vnet_pool_in_use(R.pool),
	            (unsigned)fuzz_dev_out(R.dev, NULL, NULL));
	vnet_dev_close(R.dev);
	R.ft.dev = NULL;
	FUZZ_ASSERT(vnet_pool_in_use(R.pool) == 0, "%u buffers lost", (unsigned)vnet_pool_in_use(R.pool));
	fuzz_pool_put(R.pool);
	if (R.jumbo) {
		FUZZ_ASSERT(vnet_pool_in_use(R.jumbo) == 0, "%u jumbo buffers lost", (unsigned)vnet_pool_in_use(R.jumbo));
		fuzz_pool_put(R.jumbo);
	}
	return 0;
}
