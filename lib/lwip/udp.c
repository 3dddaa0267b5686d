/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Interface API's UDP (include/vnet/iface.h): endpoints as handles from
 * a fixed per-interface table, over lwIP's raw UDP API.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/ip6_addr.h"
#include "lwip/ip_addr.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#include "base/addr.h"
#include "iface_priv.h"

#define UDP_MAX_PAYLOAD 65507u
#define UDP_HDRS4 28u        /* IPv4 + UDP headers */
#define UDP_HDRS6 48u        /* IPv6 + UDP headers */

/* A UDP endpoint: an IPv4 PCB bound to the interface's address and/or an
 * IPv6 one bound to [::] on the interface (SOF_REUSEADDR: each interface
 * of the stack may have its own [::]:port; the glue refuses a second one
 * on the same interface itself). */
struct vnet_udp {
	struct vnet_iface *ifc;
	struct udp_pcb *pcb;       /* IPv4 (NULL: none) */
	struct udp_pcb *pcb6;      /* IPv6 (NULL: none) */
	struct udp_pcb *conn;      /* the connected one (vnet_udp_dial), or NULL */
	vnet_udp_recv_fn fn;
	vnet_udp_recvfrom_fn fn_addr;
	void *arg;
	bool used;
};

int vnet_ifc_udp_alloc(struct vnet_iface *ifc)
{
	ifc->udp = calloc(ifc->max_udp, sizeof(*ifc->udp));
	return ifc->udp == NULL ? -ENOMEM : 0;
}

void vnet_ifc_udp_close_all(struct vnet_iface *ifc)
{
	uint16_t i;

	for (i = 0; i < ifc->max_udp; i++)
		if (ifc->udp[i].used)
			vnet_udp_close(&ifc->udp[i]);
}

/* ------------------------------------------------------------ the API -- */

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                        const ip_addr_t *addr, u16_t port)
{
	struct vnet_udp *u = arg;
	struct vnet_addr src;
	const void *data = p->payload;
	size_t len = p->len;

	(void)pcb;
	if (u == NULL || !u->used || (u->fn == NULL && u->fn_addr == NULL)) {
		pbuf_free(p);
		return;
	}
	if (p->next != NULL) { /* reassembled (or chained): linearise */
		if (u->ifc->udp_scratch == NULL) {
			pbuf_free(p);
			return;
		}
		len = pbuf_copy_partial(p, u->ifc->udp_scratch, p->tot_len, 0);
		data = u->ifc->udp_scratch;
	}
	if (u->fn_addr != NULL) {
		addr_from_ip(&src, addr, port);
		u->fn_addr(u, data, len, &src, u->arg);
	} else {
		u->fn(u, data, len, IP_IS_V6(addr) ? 0 : lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr))), port, u->arg);
	}
	pbuf_free(p);
}

static void udp_pcbs_remove(struct vnet_udp *u)
{
	if (u->pcb != NULL) {
		udp_recv(u->pcb, NULL, NULL);
		udp_remove(u->pcb);
	}
	if (u->pcb6 != NULL) {
		udp_recv(u->pcb6, NULL, NULL);
		udp_remove(u->pcb6);
	}
	u->pcb = u->pcb6 = u->conn = NULL;
}

/* The IPv6 PCB bound to [::]:@port on the interface. lwIP lets every PCB
 * with SOF_REUSEADDR share a port, so the interface checks its own. */
static int udp_bind6(struct vnet_udp *u, uint16_t port)
{
	struct vnet_iface *ifc = u->ifc;
	ip_addr_t any;
	uint16_t i;
	err_t e;

	for (i = 0; port != 0 && i < ifc->max_udp; i++)
		if (ifc->udp[i].used && ifc->udp[i].pcb6 != NULL && ifc->udp[i].pcb6->local_port == port)
			return -EADDRINUSE;
	u->pcb6 = udp_new_ip_type(IPADDR_TYPE_V6);
	if (u->pcb6 == NULL)
		return -ENOMEM;
	ip_set_option(u->pcb6, SOF_REUSEADDR);
	ip_addr_set_zero_ip6(&any);
	e = udp_bind(u->pcb6, &any, port);
	if (e != ERR_OK)
		return err_to_errno(e);
	udp_bind_netif(u->pcb6, &ifc->vn.nif);
	udp_recv(u->pcb6, on_udp_recv, u);
	return 0;
}

#define FAM4 1u
#define FAM6 2u

/* An endpoint on @port of the families in @fams (the IPv4 PCB first: an
 * ephemeral port is then the same for both). */
static int udp_open(struct vnet_iface *ifc, uint16_t port, unsigned fams, vnet_udp_recv_fn fn,
                    vnet_udp_recvfrom_fn fn_addr, void *arg, struct vnet_udp **out)
{
	struct vnet_udp *u = NULL;
	ip_addr_t ip;
	uint16_t i;
	err_t e;
	int rc;

	if (ifc == NULL || out == NULL || ifc->closing)
		return -EINVAL;
	if (!ifc->vn.ip6) {
		if (!(fams & FAM4))
			return -EAFNOSUPPORT;
		fams = FAM4;
	}
	for (i = 0; i < ifc->max_udp; i++) {
		if (!ifc->udp[i].used) {
			u = &ifc->udp[i];
			break;
		}
	}
	if (u == NULL)
		return -EMFILE;
	if (ifc->udp_scratch == NULL) {
		ifc->udp_scratch = malloc(0x10000u);
		if (ifc->udp_scratch == NULL)
			return -ENOMEM;
	}
	memset(u, 0, sizeof(*u));
	u->ifc = ifc;
	if (fams & FAM4) {
		rc = -ENOMEM;
		u->pcb = udp_new_ip_type(IPADDR_TYPE_V4);
		if (u->pcb == NULL)
			goto fail;
		ip_from4(&ip, vnet_iface_ip4(ifc));
		e = udp_bind(u->pcb, &ip, port);
		if (e != ERR_OK) {
			rc = err_to_errno(e);
			goto fail;
		}
		udp_bind_netif(u->pcb, &ifc->vn.nif);
		udp_recv(u->pcb, on_udp_recv, u);
		port = u->pcb->local_port;
	}
	if (fams & FAM6) {
		rc = udp_bind6(u, port);
		if (rc != 0)
			goto fail;
	}
	u->fn = fn;
	u->fn_addr = fn_addr;
	u->arg = arg;
	u->used = true;
	*out = u;
	return 0;
fail:
	udp_pcbs_remove(u);
	return rc;
}

int vnet_udp_bind(struct vnet_iface *ifc, uint16_t port, vnet_udp_recv_fn fn, void *arg,
                  struct vnet_udp **out)
{
	return udp_open(ifc, port, FAM4, fn, NULL, arg, out);
}

int vnet_udp_bind_addr(struct vnet_iface *ifc, uint16_t port, vnet_udp_recvfrom_fn fn, void *arg,
                       struct vnet_udp **out)
{
	return udp_open(ifc, port, FAM4 | FAM6, NULL, fn, arg, out);
}

/* Is @a (from a parsed laddr) an address of the interface, or any? */
static bool local_addr_ok(const struct vnet_iface *ifc, const struct vnet_addr *a)
{
	ip_addr_t ip;

	if (a->family == VNET_ADDR_IP4)
		return a->ip4 == 0 || a->ip4 == vnet_iface_ip4(ifc);
	if (vnet_addr_ip6_zero(a->ip6))
		return true;
	ip_from6(&ip, a->ip6, &ifc->vn.nif);
	return netif_get_ip6_addr_match(LWIP_CONST_CAST(struct netif *, &ifc->vn.nif), ip_2_ip6(&ip)) >= 0;
}

int vnet_udp_dial(struct vnet_iface *ifc, const char *laddr, const char *raddr,
                  vnet_udp_recv_fn fn, void *arg, struct vnet_udp **out)
{
	struct vnet_addr l, r;
	ip_addr_t rip;
	struct udp_pcb *pcb;
	err_t e;
	int rc;

	if (ifc == NULL || raddr == NULL || out == NULL)
		return -EINVAL;
	if (vnet_iface_parse_addr(raddr, &r) != 0 || r.port == 0 ||
	    (r.family == VNET_ADDR_IP4 ? r.ip4 == 0 : !vnet_addr_ip6_unicast(r.ip6)))
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	l.family = r.family;
	if (laddr != NULL && laddr[0] != '\0') {
		if (vnet_iface_parse_addr(laddr, &l) != 0)
			return -EINVAL;
		/* ":port" parses as IPv4 any: it goes with either family */
		if (l.family != r.family && !(l.family == VNET_ADDR_IP4 && l.ip4 == 0))
			return -EINVAL;
		l.family = r.family;
		if (!local_addr_ok(ifc, &l))
			return -EADDRNOTAVAIL;
	}
	rc = udp_open(ifc, l.port, r.family == VNET_ADDR_IP6 ? FAM6 : FAM4, fn, NULL, arg, out);
	if (rc != 0)
		return rc;
	pcb = r.family == VNET_ADDR_IP6 ? (*out)->pcb6 : (*out)->pcb;
	ip_from_addr(&rip, &r, &ifc->vn.nif);
	e = udp_connect(pcb, &rip, r.port);
	if (e != ERR_OK) {
		vnet_udp_close(*out);
		*out = NULL;
		return err_to_errno(e);
	}
	(*out)->conn = pcb;
	return 0;
}

static int udp_out(struct vnet_udp *u, const ip_addr_t *dst, uint16_t port,
                   const void *data, size_t len)
{
	struct vnet_netif *vn;
	struct udp_pcb *pcb;
	struct pbuf *p;
	bool sw_csum, v6;
	uint32_t mtu;
	err_t e;

	if (u == NULL || !u->used || (data == NULL && len > 0))
		return -EINVAL;
	pcb = dst == NULL ? u->conn : IP_IS_V6(dst) ? u->pcb6 : u->pcb;
	if (pcb == NULL)
		return dst == NULL ? -ENOTCONN : -EAFNOSUPPORT;
	v6 = IP_IS_V6_VAL(pcb->local_ip);
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* PBUF_REF: lwIP chains its headers in front and the netif copies the
	 * whole frame into a pool buffer; ARP/ND queueing copies if it must. */
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_REF);
	if (p == NULL)
		return -ENOMEM;
	p->payload = LWIP_CONST_CAST(void *, data);
	/* With VNET_F_CSUM the device completes UDP checksums, but not across
	 * IP fragments: a datagram that will be fragmented gets its checksum
	 * from lwIP (input and output are synchronous in NO_SYS). */
	vn = &u->ifc->vn;
	if (v6) /* lwIP fragments at the path MTU (ICMPv6 Packet Too Big lowers it) */
		mtu = nd6_get_destination_mtu(ip_2_ip6(dst != NULL ? dst : &pcb->remote_ip), &vn->nif);
	else
		mtu = vn->nif.mtu;
	sw_csum = vn->tx_csum && len + (v6 ? UDP_HDRS6 : UDP_HDRS4) > mtu;
	if (sw_csum)
		NETIF_SET_CHECKSUM_CTRL(&vn->nif, (u16_t)(vnet_netif_csum_flags(vn) | NETIF_CHECKSUM_GEN_UDP));
	if (dst != NULL)
		e = udp_sendto(pcb, p, dst, port);
	else
		e = udp_send(pcb, p);
	if (sw_csum)
		vnet_netif_csum_apply(vn);
	pbuf_free(p);
	return err_to_errno(e);
}

int vnet_udp_sendto(struct vnet_udp *u, uint32_t ip, uint16_t port, const void *data, size_t len)
{
	ip_addr_t dst;

	if (ip == 0 || port == 0)
		return -EINVAL;
	ip_from4(&dst, ip);
	return udp_out(u, &dst, port, data, len);
}

int vnet_udp_sendto_addr(struct vnet_udp *u, const struct vnet_addr *to, const void *data, size_t len)
{
	ip_addr_t dst;
	int rc;

	if (u == NULL || !u->used || to == NULL || to->port == 0)
		return -EINVAL;
	if (to->family == VNET_ADDR_IP4 ? to->ip4 == 0 : to->family == VNET_ADDR_IP6 && vnet_addr_ip6_zero(to->ip6))
		return -EINVAL;
	rc = ip_from_addr(&dst, to, &u->ifc->vn.nif);
	if (rc != 0)
		return rc;
	return udp_out(u, &dst, to->port, data, len);
}

int vnet_udp_send(struct vnet_udp *u, const void *data, size_t len)
{
	if (u == NULL || !u->used || u->conn == NULL)
		return -ENOTCONN;
	return udp_out(u, NULL, 0, data, len);
}

uint16_t vnet_udp_port(const struct vnet_udp *u)
{
	if (u == NULL || !u->used)
		return 0;
	return u->pcb != NULL ? u->pcb->local_port : u->pcb6->local_port;
}

void vnet_udp_close(struct vnet_udp *u)
{
	if (u == NULL || !u->used)
		return;
	udp_pcbs_remove(u);
	u->used = false;
}
