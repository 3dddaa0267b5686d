/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What lwIP needs from its environment in NO_SYS mode (lwIP's
 * doc/NO_SYS_SampleCode.c and src/include/lwip/arch.h): a millisecond
 * clock, random numbers, assertion and diagnostic sinks. Plus the
 * routing hooks that let several interfaces share one stack.
 * Everything here is global because lwIP's state is.
 */
#include <stdbool.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/ip.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/stats.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"

#include "vnet/vnet.h"
#include "base/csum.h"
#include "base/platform.h"
#include "glue.h"

/* lwIP's timers need milliseconds; wrap-around at 2^32 ms is handled by
 * lwIP's timeout arithmetic. */
u32_t sys_now(void)
{
	return (u32_t)(vnet_now_us() / 1000u);
}

/* xorshift64* (Vigna): fast, good enough for ISNs and ephemeral ports,
 * not for cryptography. Seeded from the cycle counter and the clock. */
static uint64_t rand_state;

void vnet_lwip_seed(uint64_t seed)
{
	rand_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint32_t vnet_lwip_rand(void)
{
	uint64_t x = rand_state;

	if (x == 0) {
		x = (vnet_cycles() << 17) ^ vnet_now_us() ^ 0x9e3779b97f4a7c15ull;
		if (x == 0)
			x = 0x9e3779b97f4a7c15ull;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rand_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * LWIP_CHKSUM: the Internet checksum without the final complement, over
 * native-order 16-bit words, exactly what lwIP's lwip_standard_chksum()
 * returns, but 8 bytes per load (base/csum.c): lwIP's portable loop was
 * over half of all instructions in a TCP bulk transfer. An odd start
 * address is handled as lwIP does: a virtual zero byte in front, and the
 * bytes of the result swapped.
 */
uint16_t vnet_lwip_chksum(const void *data, int len)
{
	const uint8_t *p = data;
	uint8_t two[2] = {0, 0};
	uint16_t w;

	if (len <= 0)
		return 0;
	if (((uintptr_t)p & 1u) == 0)
		return vnet_csum_native(p, (size_t)len);
	two[1] = *p;
	memcpy(&w, two, 2);
	return vnet_swap16(vnet_csum_fold((uint64_t)w + vnet_csum_native(p + 1, (size_t)len - 1)));
}

static uint64_t assert_count;

void vnet_lwip_assert(const char *msg, const char *file, int line)
{
	assert_count++;
	vnet_log(VNET_LOG_ERR, "lwip: assertion \"%s\" failed at %s:%d", msg, file, line);
}

uint64_t vnet_lwip_assert_count(void)
{
	return assert_count;
}

#ifdef VNET_LWIP_DIAG
#include <stdarg.h>
#include <stdio.h>

void vnet_lwip_diag(const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vnet_log(VNET_LOG_DEBUG, "lwip: %s", line);
}
#endif

/*
 * LWIP_HOOK_IP4_ROUTE_SRC: output whose source address belongs to a netif
 * leaves through that netif (strong host model), even when another netif
 * is on the same subnet (two interfaces joined by a wire in one process)
 * and even when its link is down (the netif then refuses the frame rather
 * than letting it escape through a sibling). NULL falls back to lwIP's
 * subnet routing.
 */
struct netif *vnet_lwip_route_src(const struct ip4_addr *src, const struct ip4_addr *dest)
{
	struct netif *n;
	unsigned guard = 0;

	(void)dest;
	if (src == NULL || ip4_addr_isany_val(*src))
		return NULL;
	for (n = netif_list; n != NULL && guard < VNET_LWIP_MAX_NETIFS; n = n->next, guard++) {
		if (netif_is_up(n) && ip4_addr_cmp(src, netif_ip4_addr(n)))
			return n;
	}
	return NULL;
}

/*
 * The prefix lengths the glue was given for static IPv6 addresses, per
 * netif number and address slot (0: none), for vnet_iface_ip6(). lwIP
 * 2.1.3 itself takes the /64 around a static address as on-link whatever
 * the length: its neighbour discovery solicits a target only from an
 * address of the target's /64, so a shorter prefix cannot be made on-link
 * from outside, and a longer one changes nothing it sends.
 */
static uint8_t prefix6[VNET_LWIP_MAX_NETIFS + 1][LWIP_IPV6_NUM_ADDRESSES];

void vnet_lwip_set_prefix6(const struct netif *n, unsigned slot, uint8_t len)
{
	if (n != NULL && slot < LWIP_IPV6_NUM_ADDRESSES)
		prefix6[n->num][slot] = len > 128 ? 128 : len;
}

uint8_t vnet_lwip_prefix6(const struct netif *n, unsigned slot)
{
	return n != NULL && slot < LWIP_IPV6_NUM_ADDRESSES ? prefix6[n->num][slot] : 0;
}

/*
 * LWIP_HOOK_IP6_ROUTE: as vnet_lwip_route_src for IPv4, output whose
 * source address belongs to a netif leaves through it. ip6_route() asks
 * only when neither address is link-local (those follow their zone).
 * NULL: lwIP's own rules.
 */
struct netif *vnet_lwip_route6(const ip6_addr_t *src, const ip6_addr_t *dest)
{
	struct netif *n;
	unsigned guard = 0;

	(void)dest;
	if (ip6_addr_isany(src)) /* NULL too */
		return NULL;
	for (n = netif_list; n != NULL && guard < VNET_LWIP_MAX_NETIFS; n = n->next, guard++)
		if (netif_is_up(n) && netif_get_ip6_addr_match(n, src) >= 0)
			return n;
	return NULL;
}

/*
 * The SYN flood defence (lwipopts.h, VNET_TCP_HALF_OPEN_MAX). lwIP puts a
 * new PCB at the head of tcp_active_pcbs and moves a PCB to the head
 * whenever a segment arrives for it, so the half-open PCBs nearest the tail
 * are the ones heard from least recently: a spoofed SYN's PCB never hears
 * again, a genuine one completes (or retransmits its SYN) within a round
 * trip. Shedding walks the list once (lwIP walks it for every segment
 * anyway) and drops the last VNET_TCP_SHED_BATCH half-open PCBs of the
 * listener with tcp_abandon() without a RST (moved to the head of the list
 * first, see shed()): nothing answers a spoofed
 * source, and a genuine peer's late ACK draws lwIP's RST from the listener.
 * A SYN_RCVD PCB has no callbacks yet (lwIP sets none before accept), so
 * nothing of the application runs. An upper bound of the half-open count
 * (the last walk's count plus the SYNs let through since) skips the walk
 * while the bound cannot have been reached.
 */
static struct vnet_lwip_syn_stats syn_stats;
static uint32_t half_open_est; /* >= the half-open PCBs of any listener */

static uint32_t pcbs_free(void)
{
#if MEMP_STATS
	const struct stats_mem *m = lwip_stats.memp[MEMP_TCP_PCB];

	if (m != NULL)
		return m->used >= MEMP_NUM_TCP_PCB ? 0u : (uint32_t)(MEMP_NUM_TCP_PCB - m->used);
#endif
	return MEMP_NUM_TCP_PCB;
}

/* A half-open PCB and the one before it in tcp_active_pcbs (NULL: the head). */
struct shed_pick {
	struct tcp_pcb *prev, *pcb;
};

/* Abandon @v. lwIP unlinks a PCB by walking its list from the head, so it
 * is first moved to the head (as tcp_input() moves a PCB it matched): the
 * unlinking is then immediate instead of a walk of the whole list, which
 * would double the cost of a SYN during a flood. */
static void shed(struct shed_pick v)
{
	if (v.prev != NULL) {
		v.prev->next = v.pcb->next;
		v.pcb->next = tcp_active_pcbs;
		tcp_active_pcbs = v.pcb;
	}
	tcp_abandon(v.pcb, 0);
}

static void syn_guard(const struct tcp_pcb_listen *lpcb)
{
	struct shed_pick last[VNET_TCP_SHED_BATCH], any = {NULL, NULL};
	struct tcp_pcb *p, *prev = NULL;
	uint32_t mine = 0, all = 0, n, k, guard = 0;
	bool low = pcbs_free() <= VNET_TCP_PCB_RESERVE;

	syn_stats.syns++;
	if (!low && half_open_est < VNET_TCP_HALF_OPEN_MAX) {
		half_open_est++;
		return;
	}
	for (p = tcp_active_pcbs; p != NULL && guard < MEMP_NUM_TCP_PCB; prev = p, p = p->next, guard++) {
		if (p->state != SYN_RCVD)
			continue;
		all++;
		any.prev = prev;
		any.pcb = p;
		if (p->listener == lpcb) { /* keeps the last VNET_TCP_SHED_BATCH */
			last[mine % VNET_TCP_SHED_BATCH].prev = prev;
			last[mine % VNET_TCP_SHED_BATCH].pcb = p;
			mine++;
		}
	}
	if (mine > syn_stats.half_open_peak)
		syn_stats.half_open_peak = mine;
	if (mine >= VNET_TCP_HALF_OPEN_MAX) {
		/* down to VNET_TCP_HALF_OPEN_MAX - VNET_TCP_SHED_BATCH, from the
		 * tail: a PCB's predecessor is then still the one recorded (only
		 * PCBs after it have moved) */
		n = mine - (VNET_TCP_HALF_OPEN_MAX - VNET_TCP_SHED_BATCH);
		if (n > VNET_TCP_SHED_BATCH)
			n = VNET_TCP_SHED_BATCH;
		for (k = 0; k < n; k++)
			shed(last[(mine - 1 - k) % VNET_TCP_SHED_BATCH]);
		syn_stats.shed += n;
		all -= n;
	} else if (low && any.pcb != NULL) {
		shed(any);
		syn_stats.shed_reserve++;
		all--;
	}
	half_open_est = all + 1; /* this SYN's own PCB */
}

void vnet_lwip_syn_stats(struct vnet_lwip_syn_stats *out)
{
	const struct tcp_pcb *p;
	uint32_t n = 0, guard = 0;

	if (out == NULL)
		return;
	for (p = tcp_active_pcbs; p != NULL && guard < MEMP_NUM_TCP_PCB; p = p->next, guard++)
		n += p->state == SYN_RCVD;
	if (n > syn_stats.half_open_peak) /* all listeners': a bound of one's */
		syn_stats.half_open_peak = n;
	*out = syn_stats;
	out->half_open = n;
	out->half_open_max = VNET_TCP_HALF_OPEN_MAX;
	out->pcbs = MEMP_NUM_TCP_PCB;
	out->pcbs_used = MEMP_NUM_TCP_PCB - pcbs_free();
}

/*
 * LWIP_HOOK_TCP_INPACKET_PCB (lwipopts.h): every segment lwIP matched to a
 * PCB, a listener's included (then @pcb is a struct tcp_pcb_listen, of
 * which only the common fields may be read). A SYN to a listener goes
 * through the flood defence above; the segment is always taken (ERR_OK).
 *
 * A large segment received whole
 * (VNET_F_GUEST_TSO4/6) stands for several full-sized ones, and TCP should
 * acknowledge at least every second full-sized segment (RFC 5681 4.2).
 * lwIP counts segments: it would delay the ACK of every other large
 * segment by up to a fast-timer tick, which starves a sender in slow start
 * (its window grows per ACK). While the glue hands such a segment to lwIP
 * (input is synchronous: the netif lwIP takes input from says so,
 * vnet_netif_rx_large()), mark an ACK as already pending: lwIP's
 * delayed-ACK logic then acknowledges at once.
 *
 * lwIP asks a hook not to call its raw API. For a segment to a connection
 * only a flag is touched. For a SYN to a listener, syn_guard() abandons
 * other PCBs: lwIP calls the hook there after its PCB lookups are done
 * (tcp_input() holds no pointer into tcp_active_pcbs, tcp_input_pcb is not
 * set) and before tcp_listen_input() allocates, and a SYN_RCVD PCB has no
 * callbacks, so tcp_abandon(pcb, 0) only unlinks and frees it.
 */
int vnet_lwip_tcp_inpkt(struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
	if (pcb != NULL && pcb->state == LISTEN) {
		if (hdr != NULL && (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
			syn_guard((const struct tcp_pcb_listen *)(void *)pcb);
		return ERR_OK;
	}
	if (vnet_netif_rx_large(ip_current_input_netif()) && pcb != NULL && pcb->state != LISTEN &&
	    pcb->state != CLOSED && pcb->state != TIME_WAIT)
		pcb->flags = (tcpflags_t)(pcb->flags | TF_ACK_DELAY);
	/* once established, lwIP no longer sets the MSS from the peer's
	 * option: from here on it may build large segments */
	if (pcb != NULL && pcb->state == ESTABLISHED)
		vnet_netif_large_send(ip_current_input_netif(), pcb);
	return ERR_OK;
}
