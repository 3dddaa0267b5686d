/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target (d): arbitrary frames into the lwIP interface. Two device
 * models joined by the wire: side A is a bare vnet device the fuzzer
 * sends frames through; side B runs the Interface API (lib/lwip) with a
 * TCP echo listener (or one that never reads: lwIP then holds the frames),
 * a UDP echo port and the raw-frame hook. Frames are raw bytes, or IPv4
 * built from the fuzzer's bytes with lengths and checksums made right so
 * that they reach TCP, UDP and ICMP (the checksum check may also be off).
 *
 * Checked after every step: no lwIP assertion fired; B's pool in use ==
 * descriptors B's driver has out + buffers lwIP holds (zero-copy RX) +
 * frames queued for TX; A's pool in use == A's descriptors out; after the
 * interface is closed lwIP holds none of B's buffers, and after close
 * every buffer is back.
 */
#include <errno.h>

#include "fuzz_common.h"
#include <vnet/iface.h>
#include <vnet/model.h>

#define MAX_FRAMES 64
#define IP_A 0x0A000001u
#define IP_B 0x0A000002u

struct side {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
};

struct rig {
	struct side a, b;
	struct vnet_iface *ifc;
	struct vnet_tcp_listener *lis;
	struct vnet_udp *udp;
	bool tcp_reads;     /* the TCP server reads (echoes) or never does */
	bool hook_takes;
	uint64_t asserts0;
	uint32_t b_snd_nxt, b_rcv_nxt; /* from B's last TCP segment */
	uint8_t frame[1600];
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

static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
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

/* -------------------------------------------------------------- steps -- */

static void check(void)
{
	struct vnet_iface_stats st;

	FUZZ_ASSERT(vnet_iface_stats(R.ifc, &st) == 0, "stats");
	FUZZ_ASSERT(st.lwip_asserts == R.asserts0, "an lwIP assertion fired (%llu)",
	            (unsigned long long)(st.lwip_asserts - R.asserts0));
	fuzz_check_accounting(R.b.dev, R.b.pool, 0, st.rx_held + st.tx_queued);
	fuzz_check_accounting(R.a.dev, R.a.pool, 0, 0);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Note where B's TCP stands (its next sequence number and what it
 * acknowledged), so that the fuzzer's next segment can be in step. */
static void watch_b(const struct vnet_buf *b)
{
	const uint8_t *f = b->data, *ip = f + 14, *tcp;
	uint32_t ihl, thl, tot, dlen;

	if (b->len < 54 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != 6)
		return;
	ihl = (ip[0] & 0xfu) * 4u;
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot > b->len - 14u || tot < ihl + 20u)
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

/* Frames B sent come back to A: take them and let go. */
static void drain_a(void)
{
	struct vnet_buf *b[64];
	uint16_t n, j;
	int i;

	for (i = 0; i < 4; i++) {
		n = vnet_rx_burst(R.a.dev, 0, b, 64);
		for (j = 0; j < n; j++)
			watch_b(b[j]);
		vnet_pool_free_bulk(b, n);
		if (n < 64)
			break;
	}
	vnet_rx_refill(R.a.dev, 0);
	vnet_tx_reclaim(R.a.dev, 0);
}

static void run_steps(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		vnet_model_poll(R.a.m);
		(void)vnet_iface_poll(R.ifc);
		vnet_model_poll(R.b.m);
		drain_a();
		check();
	}
}

static void inject(const uint8_t *f, uint32_t len)
{
	struct vnet_buf *b = vnet_buf_alloc(R.a.pool);

	if (b == NULL)
		return;
	memcpy(b->data, f, len);
	b->len = len;
	if (vnet_tx_burst(R.a.dev, 0, &b, 1) != 1)
		vnet_buf_free(b);
}

static void side_open(struct side *s, const uint8_t mac[6], uint32_t count, uint16_t ring)
{
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {.count = count};
	struct vnet_dev_conf dc = {0};

	mc.backend = VNET_MODEL_WIRE;
	memcpy(mc.mac, mac, 6);
	if (vnet_model_create(&s->m, &mc) != 0 || vnet_pool_create(&s->pool, &pc) != 0)
		abort();
	dc.pool = s->pool;
	dc.rx_ring_size = dc.tx_ring_size = ring;
	if (vnet_dev_open(&s->dev, vnet_model_transport(s->m), &dc) != 0)
		abort();
}

static void side_close(struct side *s)
{
	vnet_dev_close(s->dev);
	FUZZ_ASSERT(vnet_pool_in_use(s->pool) == 0, "%u buffers lost", (unsigned)vnet_pool_in_use(s->pool));
	FUZZ_ASSERT(vnet_pool_destroy(s->pool) == 0, "pool destroy");
	vnet_model_destroy(s->m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_iface_conf ic = {0};
	struct vnet_iface_stats st;
	struct fin in;
	uint8_t g;
	int k;

	fuzz_quiet_log();
	fin_init(&in, data, size);
	memset(&R, 0, sizeof(R));
	g = fin_u8(&in);
	side_open(&R.a, MAC_A, 64, 16);
	side_open(&R.b, MAC_B, 96, 32);
	if (vnet_model_wire(R.a.m, R.b.m) != 0)
		abort();
	ic.ip = IP_B;
	ic.netmask = 0xFFFFFF00u;
	ic.pool = R.b.pool;
	ic.rx_copy = (g & 1) != 0;
	ic.icmp_echo = (g & 2) != 0;
	ic.no_rx_csum_check = (g & 4) != 0;
	ic.rx_reserve = (g & 8) ? 8 : 0; /* low: lwIP may hold most of the pool */
	ic.rx_burst = (uint16_t)(1u + (g >> 4));
	R.tcp_reads = (g & 0x40) == 0;
	R.hook_takes = (g & 0x80) != 0;
	FUZZ_ASSERT(vnet_iface_init_conf(&R.ifc, R.b.dev, &ic) == 0, "iface init");
	FUZZ_ASSERT(vnet_iface_stats(R.ifc, &st) == 0, "stats");
	R.asserts0 = st.lwip_asserts;
	FUZZ_ASSERT(vnet_tcp_listen(R.ifc, 80, tcp_accept, NULL, &R.lis) == 0, "listen");
	FUZZ_ASSERT(vnet_udp_bind(R.ifc, 7, udp_recv, NULL, &R.udp) == 0, "udp bind");
	vnet_iface_set_frame_hook(R.ifc, frame_hook, NULL);

	for (k = 0; k < MAX_FRAMES && fin_more(&in); k++) {
		uint8_t op = fin_u8(&in);
		uint32_t len;

		if ((op & 0x1f) == 0x1f) {
			vnet_model_set_link(R.b.m, (op & 0x20) != 0); /* link flap */
			run_steps(1);
			continue;
		}
		len = build_frame(&in, R.frame, sizeof(R.frame) - 82u);
		inject(R.frame, len);
		run_steps(1 + (op & 3));
	}
	run_steps(2);
	vnet_iface_close(R.ifc);
	/* lwIP must have let go of every received frame */
	fuzz_check_accounting(R.b.dev, R.b.pool, 0, 0);
	side_close(&R.a);
	side_close(&R.b);
	return 0;
}
