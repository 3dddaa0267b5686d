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
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "vnet/vnet.h"
#include "platform/platform.h"
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
 * LWIP_CHKSUM: the Internet checksum (RFC 1071) without the final
 * complement, over native-order 16-bit words, exactly what lwIP's
 * lwip_standard_chksum() returns, but 8 bytes per load: lwIP's portable
 * loop was over half of all instructions in a TCP bulk transfer. The ones'
 * complement sum does not care how the words are grouped (2^16 = 1 mod
 * 0xffff), so 32-bit halves accumulate in 64 bits and fold at the end. An
 * odd start address is handled as lwIP does: a virtual zero byte in front,
 * and the bytes of the result swapped.
 */
static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint16_t vnet_lwip_chksum(const void *data, int len)
{
	const uint8_t *p = data;
	uint64_t sum = 0, v;
	uint16_t w;
	uint8_t two[2];
	bool odd = ((uintptr_t)p & 1u) != 0;

	if (len <= 0)
		return 0;
	if (odd) {
		two[0] = 0;
		two[1] = *p++;
		memcpy(&w, two, 2);
		sum += w;
		len--;
	}
	for (; len >= 32; len -= 32, p += 32) {
		v = load64(p);
		sum += (v & 0xffffffffu) + (v >> 32);
		v = load64(p + 8);
		sum += (v & 0xffffffffu) + (v >> 32);
		v = load64(p + 16);
		sum += (v & 0xffffffffu) + (v >> 32);
		v = load64(p + 24);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	for (; len >= 8; len -= 8, p += 8) {
		v = load64(p);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	for (; len >= 2; len -= 2, p += 2) {
		memcpy(&w, p, 2);
		sum += w;
	}
	if (len > 0) {
		two[0] = *p;
		two[1] = 0;
		memcpy(&w, two, 2);
		sum += w;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	if (odd)
		sum = ((sum & 0xffu) << 8) | ((sum >> 8) & 0xffu);
	return (uint16_t)sum;
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
 * LWIP_HOOK_TCP_INPACKET_PCB (lwipopts.h). A large segment received whole
 * (VNET_F_GUEST_TSO4/6) stands for several full-sized ones, and TCP should
 * acknowledge at least every second full-sized segment (RFC 5681 4.2).
 * lwIP counts segments: it would delay the ACK of every other large
 * segment by up to a fast-timer tick, which starves a sender in slow start
 * (its window grows per ACK). While the glue hands such a segment to lwIP
 * (vnet_lwip_rx_lro set, input is synchronous), mark an ACK as already
 * pending: lwIP's delayed-ACK logic then acknowledges at once. Only the
 * flag is touched, which the hook's contract allows.
 */
bool vnet_lwip_rx_lro;

int vnet_lwip_tcp_inpkt(struct tcp_pcb *pcb)
{
	if (vnet_lwip_rx_lro && pcb != NULL && pcb->state != LISTEN && pcb->state != CLOSED &&
	    pcb->state != TIME_WAIT)
		pcb->flags = (tcpflags_t)(pcb->flags | TF_ACK_DELAY);
	return ERR_OK;
}
