/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the Interface API (include/vnet/iface.h): its set-up, poll
 * and stats (iface.c), TCP (tcp.c) and UDP (udp.c) over one netif, and the
 * conversions between the API's addresses and errors and lwIP's, which
 * they share. lwIP is global and single-threaded (NO_SYS): all of it runs
 * on the polling thread.
 */
#ifndef VNET_LWIP_IFACE_PRIV_H
#define VNET_LWIP_IFACE_PRIV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"

#include "vnet/iface.h"
#include "glue.h"

struct vnet_iface {
	struct vnet_netif vn;      /* first */
	struct vnet_dev *dev;
	struct vnet_tcp *tcp;      /* max_tcp connections (tcp.c) */
	struct vnet_tcp *tcp_free;
	struct vnet_tcp_listener *lis; /* max_lis listeners (tcp.c) */
	struct vnet_udp *udp;      /* max_udp endpoints (udp.c) */
	uint8_t *udp_scratch;      /* linearises chained datagrams (allocated at first bind) */
	uint16_t max_tcp, max_lis, max_udp;
	uint32_t dialing;
	uint32_t wakes;            /* connections with refused data or a held FIN, now with a reader */
	uint64_t dial_next_us;
	bool closing;
};

/* ---- addresses and errors, lwIP's <-> the API's ---- */

/* An IPv4 address in host byte order. */
static inline void ip_from4(ip_addr_t *a, uint32_t host)
{
	ip_addr_set_zero_ip4(a);
	ip4_addr_set_u32(ip_2_ip4(a), lwip_htonl(host));
}

/* An IPv6 address of @nif's link (a link-local one gets its zone). */
static inline void ip_from6(ip_addr_t *a, const uint8_t b[16], const struct netif *nif)
{
	ip_addr_set_zero_ip6(a);
	memcpy(ip_2_ip6(a)->addr, b, 16);
	ip6_addr_assign_zone(ip_2_ip6(a), IP6_UNICAST, nif);
}

/* An address of either family (IPv6: of @nif's link). */
static inline int ip_from_addr(ip_addr_t *a, const struct vnet_addr *v, const struct netif *nif)
{
	if (v->family == VNET_ADDR_IP4)
		ip_from4(a, v->ip4);
	else if (v->family == VNET_ADDR_IP6)
		ip_from6(a, v->ip6, nif);
	else
		return -EAFNOSUPPORT;
	return 0;
}

/* The API's form of @a and @port. */
static inline void addr_from_ip(struct vnet_addr *v, const ip_addr_t *a, uint16_t port)
{
	memset(v, 0, sizeof(*v));
	v->port = port;
	if (IP_IS_V6(a)) {
		v->family = VNET_ADDR_IP6;
		memcpy(v->ip6, ip_2_ip6(a)->addr, 16);
	} else {
		v->family = VNET_ADDR_IP4;
		v->ip4 = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(a)));
	}
}

/* lwIP's error as -errno. */
static inline int err_to_errno(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: return -ENOMEM;
	case ERR_BUF: return -ENOBUFS;
	case ERR_TIMEOUT: return -ETIMEDOUT;
	case ERR_RTE: return -EHOSTUNREACH;
	case ERR_INPROGRESS: return -EINPROGRESS;
	case ERR_VAL: return -EINVAL;
	case ERR_WOULDBLOCK: return -EAGAIN;
	case ERR_USE: return -EADDRINUSE;
	case ERR_ALREADY: return -EALREADY;
	case ERR_ISCONN: return -EISCONN;
	case ERR_CONN: return -ENOTCONN;
	case ERR_IF: return -ENETDOWN;
	case ERR_ABRT: return -ECONNABORTED;
	case ERR_RST: return -ECONNRESET;
	case ERR_CLSD: return -ENOTCONN;
	case ERR_ARG: return -EINVAL;
	default: return -EIO;
	}
}

/* ---- tcp.c ---- */

/* The connection and listener tables (max_tcp, max_lis), every connection
 * on the free list. 0, or -ENOMEM with what was allocated left in @ifc for
 * the caller to free. */
int vnet_ifc_tcp_alloc(struct vnet_iface *ifc);
/* Close every listener and abort every connection (the interface closes). */
void vnet_ifc_tcp_close_all(struct vnet_iface *ifc);
/* Abort the dials whose deadline has passed (poll: while ifc->dialing and
 * from ifc->dial_next_us on). */
void vnet_ifc_tcp_expire_dials(struct vnet_iface *ifc, uint64_t now);
/* Hand what lwIP kept to connections that got a reader (poll: while
 * ifc->wakes). */
void vnet_ifc_tcp_wake_readers(struct vnet_iface *ifc);

/* ---- udp.c ---- */

/* The endpoint table (max_udp). 0 or -ENOMEM. */
int vnet_ifc_udp_alloc(struct vnet_iface *ifc);
/* Close every endpoint (the interface closes). */
void vnet_ifc_udp_close_all(struct vnet_iface *ifc);

#endif
