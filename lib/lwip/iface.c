/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Interface API (include/vnet/iface.h): lwIP's raw API behind opaque
 * handles, in the spirit of the Go package's Interface. lwIP is global and
 * single-threaded (NO_SYS); every function here runs on the polling thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/ip_addr.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h" /* tcp_process_refused_data */
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include "base/platform.h"
#include "glue.h"

#ifndef VNET_LWIP_RX_COPY
#define VNET_LWIP_RX_COPY 0
#endif

#define UDP_MAX_PAYLOAD 65507u
#define UDP_HDRS4 28u        /* IPv4 + UDP headers */
#define UDP_HDRS6 48u        /* IPv6 + UDP headers */
#define DIAL_CHECK_US 10000u /* how often pending dials are checked for timeout */
/* A listener's PCBs: the IPv4 address and each IPv6 address slot. lwIP
 * refuses two listeners on one port of the same address, [::] included,
 * so a listener binds each address of its interface: several interfaces
 * in one stack may then listen on the same port. */
#define LIS_PCBS (1 + LWIP_IPV6_NUM_ADDRESSES)

enum conn_state { CONN_FREE = 0, CONN_DIALING, CONN_OPEN, CONN_DEAD };

struct vnet_tcp {
	struct vnet_iface *ifc;
	struct tcp_pcb *pcb;
	vnet_tcp_connect_fn on_connect;
	vnet_tcp_recv_fn on_recv;
	vnet_tcp_sent_fn on_sent;
	vnet_tcp_err_fn on_err;
	void *arg;
	uint64_t deadline_us;      /* dial timeout (0: none) */
	struct vnet_tcp *next_free;
	uint32_t held;             /* bytes delivered, window not yet reopened (manual window) */
	uint8_t state;
	bool manual_wnd;           /* the application reopens the window (vnet_tcp_recved) */
	bool fin_held;             /* the peer's FIN came while no receive callback was set */
	bool wake;                 /* a receive callback was set since: counted in ifc->wakes */
};

struct vnet_tcp_listener {
	struct vnet_iface *ifc;
	struct tcp_pcb *pcb[LIS_PCBS];
	vnet_tcp_accept_fn fn;
	void *arg;
	bool used;
};

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

struct vnet_iface {
	struct vnet_netif vn;      /* first */
	struct vnet_dev *dev;
	struct vnet_tcp *tcp;
	struct vnet_tcp *tcp_free;
	struct vnet_tcp_listener *lis;
	struct vnet_udp *udp;
	uint8_t *udp_scratch;      /* linearises chained datagrams (allocated at first bind) */
	uint16_t max_tcp, max_lis, max_udp;
	uint32_t dialing;
	uint32_t wakes;            /* connections with refused data or a held FIN, now with a reader */
	uint64_t dial_next_us;
	bool closing;
};

static bool lwip_ready;

static struct vnet_pool *dev_pool(const struct vnet_dev *dev)
{
	return vnet_dev_pool(dev);
}

/* ------------------------------------------------------------ helpers -- */

static void ip_from4(ip_addr_t *a, uint32_t host)
{
	ip_addr_set_zero_ip4(a);
	ip4_addr_set_u32(ip_2_ip4(a), lwip_htonl(host));
}

/* An IPv6 address of @nif's link (a link-local one gets its zone). */
static void ip_from6(ip_addr_t *a, const uint8_t b[16], const struct netif *nif)
{
	ip_addr_set_zero_ip6(a);
	memcpy(ip_2_ip6(a)->addr, b, 16);
	ip6_addr_assign_zone(ip_2_ip6(a), IP6_UNICAST, nif);
}

static int ip_from_addr(ip_addr_t *a, const struct vnet_addr *v, const struct netif *nif)
{
	if (v->family == VNET_ADDR_IP4)
		ip_from4(a, v->ip4);
	else if (v->family == VNET_ADDR_IP6)
		ip_from6(a, v->ip6, nif);
	else
		return -EAFNOSUPPORT;
	return 0;
}

static void addr_from_ip(struct vnet_addr *v, const ip_addr_t *a, uint16_t port)
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

static bool ip6_is_zero(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* A unicast address a host may hold: not unspecified, loopback or multicast. */
static bool ip6_unicast(const uint8_t a[16])
{
	static const uint8_t loop[16] = {[15] = 1};

	return !ip6_is_zero(a) && memcmp(a, loop, 16) != 0 && a[0] != 0xff;
}

static int err_to_errno(err_t e)
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

/* Dotted quad, strictly: four decimal parts 0..255, no leading zeros, no
 * blanks. Stops at @end (NUL or ':'). */
static int parse_ip4_until(const char *s, char end, uint32_t *out, const char **rest)
{
	uint32_t ip = 0;
	unsigned part, digits, dots = 0, i;

	for (i = 0; i < 4; i++) {
		part = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			if (digits == 1 && part == 0)
				return -EINVAL; /* leading zero */
			part = part * 10u + (unsigned)(*s - '0');
			digits++;
			s++;
		}
		if (digits == 0 || digits > 3 || part > 255)
			return -EINVAL;
		ip = (ip << 8) | part;
		if (i < 3) {
			if (*s != '.')
				return -EINVAL;
			s++;
			dots++;
		}
	}
	if (*s != end || dots != 3)
		return -EINVAL;
	*out = ip;
	if (rest != NULL)
		*rest = s;
	return 0;
}

int vnet_iface_parse_ip4(const char *s, uint32_t *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	return parse_ip4_until(s, '\0', out, NULL);
}

/* A decimal port 0..65535 up to the end of the string. */
static int parse_port(const char *p, uint16_t *port)
{
	uint32_t v = 0;
	unsigned digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 6) {
		v = v * 10u + (uint32_t)(*p - '0');
		digits++;
		p++;
	}
	if (digits == 0 || digits > 5 || v > 65535u || *p != '\0')
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int vnet_iface_parse_addr4(const char *s, uint32_t *ip, uint16_t *port)
{
	const char *p = s;
	uint32_t a = 0;
	uint16_t v;

	if (s == NULL || ip == NULL || port == NULL)
		return -EINVAL;
	if (*p != ':' && parse_ip4_until(p, ':', &a, &p) != 0)
		return -EINVAL;
	p++; /* ':' */
	if (parse_port(p, &v) != 0)
		return -EINVAL;
	*ip = a;
	*port = v;
	return 0;
}

/* RFC 4291 2.2 forms 1 and 2: up to eight groups of 1-4 hex digits, one
 * "::" at most standing for one or more zero groups. Stops at @end. */
static int parse_ip6_until(const char *s, char end, uint8_t out[16], const char **rest)
{
	uint16_t g[8];
	unsigned n = 0, i, k;
	int gap = -1;
	const char *p = s;

	if (p[0] == ':') {
		if (p[1] != ':')
			return -EINVAL;
		gap = 0;
		p += 2;
	}
	while (*p != end) {
		unsigned v = 0, digits = 0;
		int d;

		while ((d = vnet_hex_digit(*p)) >= 0 && digits < 5) {
			v = v * 16u + (unsigned)d;
			digits++;
			p++;
		}
		if (digits == 0 || digits > 4 || n == 8)
			return -EINVAL;
		g[n++] = (uint16_t)v;
		if (*p == end)
			break;
		if (*p != ':')
			return -EINVAL;
		p++;
		if (*p == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = (int)n;
			p++;
		} else if (*p == end) {
			return -EINVAL; /* a trailing single ':' */
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return -EINVAL;
	memset(out, 0, 16);
	for (i = 0, k = 0; i < n; i++, k++) {
		if (gap >= 0 && i == (unsigned)gap)
			k += 8 - n;
		out[2 * k] = (uint8_t)(g[i] >> 8);
		out[2 * k + 1] = (uint8_t)g[i];
	}
	if (rest != NULL)
		*rest = p;
	return 0;
}

int vnet_iface_parse_ip6(const char *s, uint8_t out[16])
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	return parse_ip6_until(s, '\0', out, NULL);
}

int vnet_iface_format_ip6(const uint8_t ip[16], char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[VNET_IFACE_IP6_STRLEN];
	unsigned i, best = 0, best_len = 0, run = 0, n = 0;
	size_t out = 0;

	if (ip == NULL || buf == NULL)
		return -EINVAL;
	/* RFC 5952 4.2: the longest run of two or more zero groups, the first
	 * of equal ones */
	for (i = 0; i < 8; i++) {
		run = (ip[2 * i] | ip[2 * i + 1]) == 0 ? run + 1 : 0;
		if (run > best_len) {
			best_len = run;
			best = i + 1 - run;
		}
	}
	if (best_len < 2)
		best_len = 0;
	for (i = 0; i < 8; i++) {
		unsigned v = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1], shift, started = 0;

		if (best_len && i == best) {
			tmp[n++] = ':';
			tmp[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && !(best_len && i == best + best_len))
			tmp[n++] = ':';
		for (shift = 12;; shift -= 4) {
			unsigned d = (v >> shift) & 0xfu;

			if (d || started || shift == 0) {
				tmp[n++] = hex[d];
				started = 1;
			}
			if (shift == 0)
				break;
		}
	}
	tmp[n] = '\0';
	out = n;
	if (len < out + 1)
		return -ENOSPC;
	memcpy(buf, tmp, out + 1);
	return (int)out;
}

int vnet_iface_parse_addr(const char *s, struct vnet_addr *out)
{
	const char *p;

	if (s == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (s[0] != '[') {
		out->family = VNET_ADDR_IP4;
		return vnet_iface_parse_addr4(s, &out->ip4, &out->port);
	}
	out->family = VNET_ADDR_IP6;
	if (parse_ip6_until(s + 1, ']', out->ip6, &p) != 0 || p[0] != ']' || p[1] != ':')
		return -EINVAL;
	return parse_port(p + 2, &out->port);
}

static bool mask_contiguous(uint32_t mask)
{
	uint32_t inv = ~mask;

	return (inv & (inv + 1u)) == 0;
}

/* -------------------------------------------- callback re-entry guard --
 * An lwIP callback whose PCB the application aborted from inside it must
 * return ERR_ABRT. lwIP is global, so is this stack of active callbacks. */
struct cb_frame {
	struct tcp_pcb *pcb;
	struct cb_frame *prev;
	bool aborted;
};

static struct cb_frame *cb_top;

static void cb_enter(struct cb_frame *fr, struct tcp_pcb *pcb)
{
	fr->pcb = pcb;
	fr->aborted = false;
	fr->prev = cb_top;
	cb_top = fr;
}

static err_t cb_leave(struct cb_frame *fr)
{
	cb_top = fr->prev;
	return fr->aborted ? ERR_ABRT : ERR_OK;
}

static void cb_mark_aborted(const struct tcp_pcb *pcb)
{
	struct cb_frame *fr;
	unsigned guard = 0;

	for (fr = cb_top; fr != NULL && guard < 64; fr = fr->prev, guard++)
		if (fr->pcb == pcb)
			fr->aborted = true;
}

/* ------------------------------------------------------ TCP plumbing -- */

static struct vnet_tcp *conn_alloc(struct vnet_iface *ifc)
{
	struct vnet_tcp *c = ifc->tcp_free;

	if (c == NULL)
		return NULL;
	ifc->tcp_free = c->next_free;
	memset(c, 0, sizeof(*c));
	c->ifc = ifc;
	return c;
}

/* A handle is DEAD while its error or failed-connect callback runs: the
 * API ignores it then, and the caller releases it when the callback
 * returns (so a dial from inside the callback cannot be handed this slot). */
static void conn_release(struct vnet_tcp *c)
{
	struct vnet_iface *ifc = c->ifc;

	if (c->state == CONN_FREE)
		return;
	if (c->state == CONN_DIALING && ifc->dialing > 0)
		ifc->dialing--;
	if (c->wake && ifc->wakes > 0)
		ifc->wakes--;
	c->wake = false;
	c->state = CONN_FREE;
	c->pcb = NULL;
	c->next_free = ifc->tcp_free;
	ifc->tcp_free = c;
}

static void pcb_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

static void pcb_kill(struct tcp_pcb *pcb)
{
	pcb_detach(pcb);
	cb_mark_aborted(pcb);
	tcp_abort(pcb);
}

static void on_tcp_err(void *arg, err_t err)
{
	struct vnet_tcp *c = arg;
	vnet_tcp_connect_fn cfn;
	vnet_tcp_err_fn efn;
	bool dialing;
	int e;

	if (c == NULL || c->state == CONN_FREE)
		return;
	c->pcb = NULL; /* lwIP has freed it */
	dialing = c->state == CONN_DIALING;
	if (dialing && c->ifc->dialing > 0)
		c->ifc->dialing--;
	c->state = CONN_DEAD;
	cfn = c->on_connect;
	efn = c->on_err;
	if (!c->ifc->closing) {
		if (dialing) {
			e = err == ERR_RST ? -ECONNREFUSED : err == ERR_ABRT ? -ETIMEDOUT : err_to_errno(err);
			if (cfn != NULL)
				cfn(c, e, c->arg);
		} else if (efn != NULL) {
			efn(c, err_to_errno(err), c->arg);
		}
	}
	conn_release(c);
}

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct vnet_tcp *c = arg;
	struct cb_frame fr;
	struct pbuf *q;
	unsigned guard = 0;

	if (c == NULL || c->state != CONN_OPEN) {
		if (p != NULL) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (p == NULL) { /* FIN: end of stream */
		if (c->on_recv == NULL) {
			/* nobody reads yet (a connection waiting to be served):
			 * lwIP takes the FIN as delivered, so keep it for the
			 * receive callback (wake_readers) */
			c->fin_held = true;
			return ERR_OK;
		}
		cb_enter(&fr, pcb);
		c->on_recv(c, NULL, 0, c->arg);
		return cb_leave(&fr);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->on_recv == NULL)
		return ERR_MEM; /* lwIP keeps it (refused data) until callbacks are set */

	/* Reopen the window first: a close from inside the callback must not
	 * find unread data (lwIP answers that with RST). With a manual window
	 * the application reopens it; vnet_tcp_close() reopens what is left. */
	if (c->manual_wnd)
		c->held += p->tot_len;
	else
		tcp_recved(pcb, p->tot_len);
	cb_enter(&fr, pcb);
	for (q = p; q != NULL && guard < 0x10000u; q = q->next, guard++) {
		if (fr.aborted || c->pcb != pcb || c->state != CONN_OPEN || c->on_recv == NULL)
			break;
		if (q->len > 0)
			c->on_recv(c, q->payload, q->len, c->arg);
	}
	pbuf_free(p);
	return cb_leave(&fr);
}

static err_t on_tcp_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct vnet_tcp *c = arg;
	struct cb_frame fr;

	if (c == NULL || c->state != CONN_OPEN || c->on_sent == NULL)
		return ERR_OK;
	cb_enter(&fr, pcb);
	c->on_sent(c, len, c->arg);
	return cb_leave(&fr);
}

static void conn_attach(struct vnet_tcp *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_tcp_recv);
	tcp_sent(pcb, on_tcp_sent);
	tcp_err(pcb, on_tcp_err);
}

static err_t on_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct vnet_tcp *c = arg;
	struct cb_frame fr;

	(void)err; /* always ERR_OK in lwIP 2.1 */
	if (c == NULL || c->state != CONN_DIALING)
		return ERR_OK;
	if (c->ifc->dialing > 0)
		c->ifc->dialing--;
	c->state = CONN_OPEN;
	c->deadline_us = 0;
	if (c->on_connect == NULL)
		return ERR_OK;
	cb_enter(&fr, pcb);
	c->on_connect(c, 0, c->arg);
	return cb_leave(&fr);
}

static err_t on_tcp_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct vnet_tcp_listener *l = arg;
	struct vnet_tcp *c;
	struct cb_frame fr;

	if (err != ERR_OK || newpcb == NULL || l == NULL || !l->used)
		return ERR_VAL;
	c = l->ifc->closing ? NULL : conn_alloc(l->ifc);
	if (c == NULL) {
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	c->state = CONN_OPEN;
	c->arg = l->arg;
	conn_attach(c, newpcb);
	if (l->fn == NULL)
		return ERR_OK;
	cb_enter(&fr, newpcb);
	l->fn(c, l->arg);
	return cb_leave(&fr);
}

/* Connections that got a receive callback while lwIP held data they had
 * refused (no callback then), or a FIN: hand it over now rather than at
 * lwIP's next fast timer (refused data) or never (a FIN lwIP took as
 * delivered). The scan is bounded by max_tcp and runs only while some are
 * due. Outside lwIP's input, as its fast timer does. */
static void wake_readers(struct vnet_iface *ifc)
{
	struct tcp_pcb *pcb;
	struct vnet_tcp *c;
	uint16_t i;

	for (i = 0; i < ifc->max_tcp && ifc->wakes > 0; i++) {
		c = &ifc->tcp[i];
		if (!c->wake)
			continue;
		c->wake = false;
		ifc->wakes--;
		pcb = c->pcb;
		if (c->state != CONN_OPEN || pcb == NULL || c->on_recv == NULL)
			continue;
		if (pcb->refused_data != NULL) {
			tcp_process_refused_data(pcb); /* calls on_tcp_recv; ERR_ABRT: gone */
		} else if (c->fin_held) {
			c->fin_held = false;
			c->on_recv(c, NULL, 0, c->arg);
		}
	}
}

/* Abort dials whose deadline passed (checked every DIAL_CHECK_US while
 * any dial is pending; the table scan is bounded by max_tcp). */
static void dial_expire(struct vnet_iface *ifc, uint64_t now)
{
	uint16_t i;
	struct vnet_tcp *c;
	vnet_tcp_connect_fn fn;

	ifc->dial_next_us = now + DIAL_CHECK_US;
	for (i = 0; i < ifc->max_tcp && ifc->dialing > 0; i++) {
		c = &ifc->tcp[i];
		if (c->state != CONN_DIALING || c->deadline_us == 0 || now < c->deadline_us)
			continue;
		pcb_kill(c->pcb);
		c->pcb = NULL;
		fn = c->on_connect;
		ifc->dialing--;
		c->state = CONN_DEAD;
		if (fn != NULL)
			fn(c, -ETIMEDOUT, c->arg);
		conn_release(c);
	}
}

/* -------------------------------------------------------- interface -- */

static void lwip_once(void)
{
	if (!lwip_ready) {
		lwip_init();
		lwip_ready = true;
	}
}

int vnet_iface_init_conf(struct vnet_iface **out, struct vnet_dev *dev,
                         const struct vnet_iface_conf *conf)
{
	struct vnet_netif_conf nc;
	struct vnet_iface *ifc;
	uint16_t i;
	struct vnet_pool *pool;
	int rc;

	if (out == NULL || dev == NULL || conf == NULL)
		return -EINVAL;
	pool = conf->pool != NULL ? conf->pool : dev_pool(dev);
	if (pool == NULL)
		return -EINVAL;
	*out = NULL;
	if (conf->ip == 0 || conf->ip == 0xffffffffu || !mask_contiguous(conf->netmask))
		return -EINVAL;
	if (conf->mtu != 0 && conf->mtu < 68) /* IPv4's minimum (RFC 791) */
		return -EINVAL;
	if (conf->ip6_prefix_len > 128 ||
	    (!ip6_is_zero(conf->ip6) && (conf->no_ip6 || !ip6_unicast(conf->ip6))))
		return -EINVAL;
	lwip_once();

	ifc = calloc(1, sizeof(*ifc));
	if (ifc == NULL)
		return -ENOMEM;
	ifc->dev = dev;
	ifc->max_tcp = conf->max_tcp ? conf->max_tcp : (uint16_t)(MEMP_NUM_TCP_PCB > 65535 ? 65535 : MEMP_NUM_TCP_PCB);
	ifc->max_lis = conf->max_listeners ? conf->max_listeners : 16u;
	ifc->max_udp = conf->max_udp ? conf->max_udp : 16u;
	rc = -ENOMEM;
	ifc->tcp = calloc(ifc->max_tcp, sizeof(*ifc->tcp));
	ifc->lis = calloc(ifc->max_lis, sizeof(*ifc->lis));
	ifc->udp = calloc(ifc->max_udp, sizeof(*ifc->udp));
	if (ifc->tcp == NULL || ifc->lis == NULL || ifc->udp == NULL)
		goto fail;
	for (i = ifc->max_tcp; i > 0; i--) {
		ifc->tcp[i - 1].ifc = ifc;
		ifc->tcp[i - 1].next_free = ifc->tcp_free;
		ifc->tcp_free = &ifc->tcp[i - 1];
	}

	memset(&nc, 0, sizeof(nc));
	nc.ip = conf->ip;
	nc.netmask = conf->netmask;
	nc.gateway = conf->gateway;
	nc.pool = pool;
	nc.rx_reserve = conf->rx_reserve;
	nc.link_poll_ms = conf->link_poll_ms;
	nc.rx_burst = conf->rx_burst;
	nc.rx_copy = conf->rx_copy || VNET_LWIP_RX_COPY;
	nc.icmp_echo = conf->icmp_echo;
	nc.rx_csum_check = !conf->no_rx_csum_check;
	nc.make_default = conf->default_netif || netif_default == NULL;
	nc.jumbo_pool = conf->tx_jumbo_pool;
	nc.mtu = conf->mtu;
	nc.no_tx_csum = conf->no_tx_csum;
	nc.no_tso = conf->no_tso;
	nc.no_gro = conf->no_gro;
	memcpy(nc.ip6, conf->ip6, sizeof(nc.ip6));
	nc.ip6_prefix_len = conf->ip6_prefix_len;
	nc.no_ip6 = conf->no_ip6;
	/* A transport that gives a backend only its device's memory
	 * (vhost-user) must know the jumbo pool: TX frames come from it. */
	if (conf->tx_jumbo_pool != NULL) {
		rc = vnet_dev_share_pool(dev, conf->tx_jumbo_pool);
		if (rc != 0)
			goto fail;
	}
	rc = vnet_netif_add(&ifc->vn, dev, ifc, &nc);
	if (rc != 0)
		goto fail;
	*out = ifc;
	return 0;

fail:
	free(ifc->udp);
	free(ifc->lis);
	free(ifc->tcp);
	free(ifc);
	return rc;
}

int vnet_iface_init4(struct vnet_iface **ifc, struct vnet_dev *dev,
                     uint32_t ip, uint32_t netmask, uint32_t gateway)
{
	struct vnet_iface_conf conf;

	if (ifc == NULL || dev == NULL)
		return -EINVAL;
	memset(&conf, 0, sizeof(conf));
	conf.ip = ip;
	conf.netmask = netmask;
	conf.gateway = gateway;
	conf.pool = dev_pool(dev);
	return vnet_iface_init_conf(ifc, dev, &conf);
}

int vnet_iface_init(struct vnet_iface **ifc, struct vnet_dev *dev,
                    const char *ip, const char *netmask, const char *gateway)
{
	uint32_t a, m, g = 0;

	if (ifc == NULL || dev == NULL || ip == NULL || netmask == NULL)
		return -EINVAL;
	if (vnet_iface_parse_ip4(ip, &a) != 0 || vnet_iface_parse_ip4(netmask, &m) != 0)
		return -EINVAL;
	if (gateway != NULL && gateway[0] != '\0' && vnet_iface_parse_ip4(gateway, &g) != 0)
		return -EINVAL;
	return vnet_iface_init4(ifc, dev, a, m, g);
}

void vnet_iface_close(struct vnet_iface *ifc)
{
	uint16_t i;

	if (ifc == NULL)
		return;
	ifc->closing = true;
	for (i = 0; i < ifc->max_lis; i++)
		if (ifc->lis[i].used)
			vnet_tcp_listener_close(&ifc->lis[i]);
	for (i = 0; i < ifc->max_tcp; i++) {
		struct vnet_tcp *c = &ifc->tcp[i];

		if ((c->state == CONN_DIALING || c->state == CONN_OPEN) && c->pcb != NULL)
			pcb_kill(c->pcb);
		if (c->state != CONN_FREE)
			conn_release(c);
	}
	for (i = 0; i < ifc->max_udp; i++)
		if (ifc->udp[i].used)
			vnet_udp_close(&ifc->udp[i]);
	/* Connections the application closed but lwIP still runs (FIN_WAIT,
	 * LAST_ACK...) are aborted by netif_remove: they are bound to our
	 * address. That frees any received frames they held. */
	vnet_netif_remove(&ifc->vn);
	if (netif_default == NULL && netif_list != NULL)
		netif_set_default(netif_list);
	free(ifc->udp_scratch);
	free(ifc->udp);
	free(ifc->lis);
	free(ifc->tcp);
	free(ifc);
}

int vnet_iface_poll(struct vnet_iface *ifc)
{
	uint64_t now, tx0;
	uint32_t work;

	if (ifc == NULL)
		return -EINVAL;
	/* vnet_dev_broken() reads the device status (a VM exit on real
	 * hardware): only on the link-check schedule, or while broken. */
	if (vnet_unlikely(ifc->vn.broken)) {
		if (vnet_dev_broken(ifc->dev) == 1)
			return -EIO;
		ifc->vn.broken = false; /* recovered (vnet_dev_recover) */
	}
	now = vnet_now_us();
	vnet_netif_link_check(&ifc->vn, now, false);
	if (vnet_unlikely(ifc->vn.broken))
		return -EIO;
	if (ifc->dialing > 0 && now >= ifc->dial_next_us)
		dial_expire(ifc, now);
	if (ifc->wakes > 0)
		wake_readers(ifc);
	tx0 = ifc->vn.c.tx_frames;
	work = vnet_netif_rx(&ifc->vn);
	/* Timers before the flush, so retransmissions and delayed ACKs they
	 * produce leave in this step's burst. */
	sys_check_timeouts();
	vnet_netif_tx_flush(&ifc->vn);
	vnet_rx_refill(ifc->dev, 0);
	work += (uint32_t)(ifc->vn.c.tx_frames - tx0);
	return work > INT_MAX ? INT_MAX : (int)work;
}

uint32_t vnet_iface_sleeptime_ms(void)
{
	u32_t ms;

	if (!lwip_ready)
		return UINT32_MAX;
	ms = sys_timeouts_sleeptime();
	return ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? UINT32_MAX : ms;
}

int vnet_iface_enable_icmp(struct vnet_iface *ifc, bool on)
{
	if (ifc == NULL)
		return -EINVAL;
	ifc->vn.icmp_echo = on;
	return 0;
}

void vnet_iface_set_rx_copy(struct vnet_iface *ifc, bool on)
{
	if (ifc == NULL)
		return;
	ifc->vn.rx_copy = on;
}

void vnet_iface_set_rx_csum_check(struct vnet_iface *ifc, bool on)
{
	if (ifc == NULL)
		return;
	ifc->vn.rx_csum_check = on;
	vnet_netif_csum_apply(&ifc->vn);
}

uint32_t vnet_iface_ip4(const struct vnet_iface *ifc)
{
	if (ifc == NULL)
		return 0;
	return lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&ifc->vn.nif)));
}

int vnet_iface_ip6(const struct vnet_iface *ifc, unsigned i, struct vnet_iface_ip6 *out)
{
	const struct netif *nif;
	unsigned slot, n = 0;
	uint8_t st;

	if (ifc == NULL || out == NULL)
		return -EINVAL;
	nif = &ifc->vn.nif;
	for (slot = 0; slot < LWIP_IPV6_NUM_ADDRESSES; slot++) {
		st = netif_ip6_addr_state(nif, slot);
		if (ip6_addr_isinvalid(st) || n++ != i)
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(out->addr, netif_ip6_addr(nif, slot)->addr, 16);
		out->link_local = ip6_addr_islinklocal(netif_ip6_addr(nif, slot)) != 0;
		out->prefix_len = out->link_local ? 64u : vnet_lwip_prefix6(nif, slot);
		if (out->prefix_len == 0)
			out->prefix_len = 64; /* lwIP's own rule */
		out->usable = ip6_addr_isvalid(st) != 0;
		out->duplicate = ip6_addr_isduplicated(st) != 0;
		return 0;
	}
	return -ENOENT;
}

void vnet_iface_mac(const struct vnet_iface *ifc, uint8_t mac[6])
{
	memcpy(mac, ifc->vn.nif.hwaddr, 6);
}

bool vnet_iface_link_up(const struct vnet_iface *ifc)
{
	if (ifc == NULL)
		return false;
	return netif_is_link_up(&ifc->vn.nif) != 0;
}

int vnet_iface_info(const struct vnet_iface *ifc, struct vnet_iface_info *out)
{
	const struct vnet_netif *vn;

	if (ifc == NULL || out == NULL)
		return -EINVAL;
	vn = &ifc->vn;
	memset(out, 0, sizeof(*out));
	out->features = vn->features;
	out->offloads = (vn->tx_csum ? VNET_IFACE_OFF_TX_CSUM : 0u) |
	                (vn->guest_csum && vn->rx_csum_check ? VNET_IFACE_OFF_RX_CSUM : 0u) |
	                (vn->tx_tso4 ? VNET_IFACE_OFF_TSO : 0u) | (vn->lro4 ? VNET_IFACE_OFF_LRO : 0u) |
	                (vn->mrg ? VNET_IFACE_OFF_MRG : 0u) | (vn->tx_tso6 ? VNET_IFACE_OFF_TSO6 : 0u) |
	                (vn->lro6 ? VNET_IFACE_OFF_LRO6 : 0u);
	out->mtu = vn->nif.mtu;
	out->link_up = netif_is_link_up(&vn->nif) != 0;
	out->duplex = vn->duplex;
	out->speed_mbps = vn->speed_mbps;
	out->max_frame = vn->jumbo_room > vn->data_room ? vn->jumbo_room : vn->data_room;
	return 0;
}

struct netif *vnet_iface_netif(struct vnet_iface *ifc)
{
	return &ifc->vn.nif;
}

void vnet_iface_set_link_cb(struct vnet_iface *ifc, vnet_iface_link_fn fn, void *arg)
{
	if (ifc == NULL)
		return;
	ifc->vn.link_cb = fn;
	ifc->vn.link_arg = arg;
}

void vnet_iface_set_frame_hook(struct vnet_iface *ifc, vnet_iface_frame_fn fn, void *arg)
{
	if (ifc == NULL)
		return;
	ifc->vn.frame_hook = fn;
	ifc->vn.frame_arg = arg;
}

int vnet_iface_send_frame(struct vnet_iface *ifc, const void *frame, uint32_t len)
{
	if (ifc == NULL || frame == NULL)
		return -EINVAL;
	return vnet_netif_send_raw(&ifc->vn, frame, len);
}

static void proto_copy(struct vnet_iface_proto_stats *d, const struct stats_proto *s)
{
	d->xmit = s->xmit;
	d->recv = s->recv;
	d->drop = s->drop;
	d->chkerr = s->chkerr;
	d->lenerr = s->lenerr;
	d->memerr = s->memerr;
	d->proterr = s->proterr;
}

int vnet_iface_stats(const struct vnet_iface *ifc, struct vnet_iface_stats *out)
{
	const struct vnet_netif_counters *c;
	struct vnet_lwip_syn_stats g;
	unsigned i;

	if (ifc == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	vnet_queue_stats(ifc->dev, 0, true, &out->rxq);
	vnet_queue_stats(ifc->dev, 0, false, &out->txq);
	c = &ifc->vn.c;
	out->rx_frames = c->rx_frames;
	out->rx_zero_copy = c->rx_zero_copy;
	out->rx_copied = c->rx_copied;
	out->rx_nomem = c->rx_nomem;
	out->rx_runt = c->rx_runt;
	out->rx_hooked = c->rx_hooked;
	out->rx_unknown = c->rx_unknown;
	out->rx_icmp_filtered = c->rx_icmp_filtered;
	out->rx_csum_trusted = c->rx_csum_trusted;
	out->tx_frames = c->tx_frames;
	out->tx_ring_full = c->tx_ring_full;
	out->tx_nobuf = c->tx_nobuf;
	out->tx_link_down = c->tx_link_down;
	out->tx_too_big = c->tx_too_big;
	out->link_changes = c->link_changes;
	out->rx_held = ifc->vn.rx_held;
	out->tx_queued = ifc->vn.tx_n;
	proto_copy(&out->link, &lwip_stats.link);
	proto_copy(&out->etharp, &lwip_stats.etharp);
	proto_copy(&out->ip, &lwip_stats.ip);
	proto_copy(&out->icmp, &lwip_stats.icmp);
	proto_copy(&out->udp, &lwip_stats.udp);
	proto_copy(&out->tcp, &lwip_stats.tcp);
	out->mem_err = lwip_stats.mem.err;
	for (i = 0; i < MEMP_MAX; i++)
		if (lwip_stats.memp[i] != NULL)
			out->memp_err += lwip_stats.memp[i]->err;
	out->lwip_asserts = vnet_lwip_assert_count();
	out->rx_chained = c->rx_chained;
	out->rx_gso = c->rx_gso;
	out->rx_gro = c->rx_gro;
	out->rx_gro_segs = c->rx_gro_segs;
	out->rx_gro_capped = c->rx_gro_capped;
	vnet_lwip_syn_stats(&g);
	out->syn_seen = g.syns;
	out->syn_shed = g.shed;
	out->syn_shed_reserve = g.shed_reserve;
	out->syn_half_open = g.half_open;
	out->syn_half_open_peak = g.half_open_peak;
	out->syn_half_open_max = g.half_open_max;
	out->tcp_pcbs_used = g.pcbs_used;
	out->tcp_pcbs = g.pcbs;
	out->rx_csum_partial = c->rx_csum_partial;
	out->rx_csum_finished = c->rx_csum_finished;
	out->rx_bad_hdr = c->rx_bad_hdr;
	out->rx_too_big = c->rx_too_big;
	out->tx_csum_offload = c->tx_csum_offload;
	out->tx_jumbo = c->tx_jumbo;
	out->tx_gso = c->tx_gso;
	out->tx_gso_segs = c->tx_gso_segs;
	out->announces = c->announces;
	out->rx_gso6 = c->rx_gso6;
	out->rx_bad_gso = c->rx_bad_gso;
	out->tx_gso6 = c->tx_gso6;
	out->tx_gso6_segs = c->tx_gso6_segs;
	proto_copy(&out->ip6, &lwip_stats.ip6);
	proto_copy(&out->icmp6, &lwip_stats.icmp6);
	proto_copy(&out->nd6, &lwip_stats.nd6);
	return 0;
}

/* -------------------------------------------------------------- TCP -- */

static void listener_pcbs_close(struct vnet_tcp_listener *l)
{
	unsigned k;

	for (k = 0; k < LIS_PCBS; k++) {
		if (l->pcb[k] == NULL)
			continue;
		tcp_arg(l->pcb[k], NULL);
		tcp_accept(l->pcb[k], NULL);
		tcp_close(l->pcb[k]); /* a listening PCB closes at once */
		l->pcb[k] = NULL;
	}
}

/* One listening PCB on @addr:@port of the interface, into l->pcb[k]. */
static int listen_on(struct vnet_tcp_listener *l, unsigned k, const ip_addr_t *addr, uint16_t port)
{
	struct tcp_pcb *pcb, *lpcb;
	err_t e;

	pcb = tcp_new_ip_type(IP_GET_TYPE(addr));
	if (pcb == NULL)
		return -ENOMEM;
	e = tcp_bind(pcb, addr, port);
	if (e != ERR_OK) {
		tcp_abort(pcb);
		return err_to_errno(e);
	}
	tcp_bind_netif(pcb, &l->ifc->vn.nif);
	lpcb = tcp_listen(pcb);
	if (lpcb == NULL) {
		tcp_abort(pcb);
		return -ENOMEM;
	}
	tcp_arg(lpcb, l);
	tcp_accept(lpcb, on_tcp_accept);
	l->pcb[k] = lpcb;
	return 0;
}

int vnet_tcp_listen(struct vnet_iface *ifc, uint16_t port, vnet_tcp_accept_fn fn,
                    void *arg, struct vnet_tcp_listener **out)
{
	struct vnet_tcp_listener *l = NULL;
	const struct netif *nif;
	ip_addr_t ip;
	uint16_t i;
	unsigned slot;
	int rc;

	if (ifc == NULL || fn == NULL || port == 0)
		return -EINVAL;
	for (i = 0; i < ifc->max_lis; i++) {
		if (!ifc->lis[i].used) {
			l = &ifc->lis[i];
			break;
		}
	}
	if (l == NULL)
		return -EMFILE;
	memset(l, 0, sizeof(*l));
	l->ifc = ifc;
	l->fn = fn;
	l->arg = arg;
	nif = &ifc->vn.nif;
	ip_from4(&ip, vnet_iface_ip4(ifc));
	rc = listen_on(l, 0, &ip, port);
	for (slot = 0; rc == 0 && slot < LWIP_IPV6_NUM_ADDRESSES; slot++)
		if (!ip6_addr_isinvalid(netif_ip6_addr_state(nif, slot)))
			rc = listen_on(l, 1 + slot, netif_ip_addr6(nif, slot), port);
	if (rc != 0) {
		listener_pcbs_close(l);
		return rc;
	}
	l->used = true;
	if (out != NULL)
		*out = l;
	return 0;
}

void vnet_tcp_listener_close(struct vnet_tcp_listener *l)
{
	if (l == NULL || !l->used)
		return;
	listener_pcbs_close(l);
	l->used = false;
}

/* Dial @remote: from the interface's IPv4 address, or for IPv6 from the
 * address lwIP picks for the destination (RFC 6724 in lwIP's terms). */
static int dial_ip(struct vnet_iface *ifc, const ip_addr_t *remote, uint16_t port, uint32_t timeout_ms,
                   vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out)
{
	struct vnet_tcp *c;
	struct tcp_pcb *pcb;
	ip_addr_t local;
	err_t e;

	if (ifc == NULL || fn == NULL || remote == NULL || ip_addr_isany_val(*remote) || port == 0 || ifc->closing)
		return -EINVAL;
	if (IP_IS_V6_VAL(*remote) && !ifc->vn.ip6)
		return -EAFNOSUPPORT;
	if (IP_IS_V6_VAL(*remote) && ip6_addr_ismulticast(ip_2_ip6(remote)))
		return -EINVAL;
	c = conn_alloc(ifc);
	if (c == NULL)
		return -EMFILE;
	pcb = tcp_new_ip_type(IP_GET_TYPE(remote));
	if (pcb == NULL) {
		conn_release(c);
		return -ENOMEM;
	}
	if (IP_IS_V6_VAL(*remote))
		ip_addr_set_zero_ip6(&local);
	else
		ip_from4(&local, vnet_iface_ip4(ifc));
	e = tcp_bind(pcb, &local, 0);
	if (e != ERR_OK) {
		tcp_abort(pcb);
		conn_release(c);
		return err_to_errno(e);
	}
	tcp_bind_netif(pcb, &ifc->vn.nif);
	c->on_connect = fn;
	c->arg = arg;
	conn_attach(c, pcb);
	e = tcp_connect(pcb, remote, port, on_tcp_connected);
	if (e != ERR_OK) {
		pcb_kill(pcb);
		conn_release(c);
		return err_to_errno(e);
	}
	c->state = CONN_DIALING;
	ifc->dialing++;
	if (timeout_ms > 0) {
		c->deadline_us = vnet_now_us() + (uint64_t)timeout_ms * 1000u;
		if (ifc->dialing == 1)
			ifc->dial_next_us = vnet_now_us() + DIAL_CHECK_US;
	}
	if (out != NULL)
		*out = c;
	return 0;
}

int vnet_tcp_dial4(struct vnet_iface *ifc, uint32_t ip, uint16_t port, uint32_t timeout_ms,
                   vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out)
{
	ip_addr_t remote;

	if (ip == 0)
		return -EINVAL;
	ip_from4(&remote, ip);
	return dial_ip(ifc, &remote, port, timeout_ms, fn, arg, out);
}

int vnet_tcp_dial_addr(struct vnet_iface *ifc, const struct vnet_addr *to, uint32_t timeout_ms,
                       vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out)
{
	ip_addr_t remote;
	int rc;

	if (ifc == NULL || to == NULL)
		return -EINVAL;
	rc = ip_from_addr(&remote, to, &ifc->vn.nif);
	if (rc != 0)
		return rc;
	return dial_ip(ifc, &remote, to->port, timeout_ms, fn, arg, out);
}

int vnet_tcp_dial(struct vnet_iface *ifc, const char *addr, uint32_t timeout_ms,
                  vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out)
{
	struct vnet_addr a;

	if (addr == NULL || vnet_iface_parse_addr(addr, &a) != 0)
		return -EINVAL;
	return vnet_tcp_dial_addr(ifc, &a, timeout_ms, fn, arg, out);
}

void vnet_tcp_set_callbacks(struct vnet_tcp *c, vnet_tcp_recv_fn recv, vnet_tcp_sent_fn sent,
                            vnet_tcp_err_fn err, void *arg)
{
	if (c == NULL || c->state == CONN_FREE || c->state == CONN_DEAD)
		return;
	c->on_recv = recv;
	c->on_sent = sent;
	c->on_err = err;
	c->arg = arg;
	/* a reader at last: what lwIP kept for it is handed over at the next
	 * poll (wake_readers), not from inside this call */
	if (recv != NULL && !c->wake && c->pcb != NULL && (c->fin_held || c->pcb->refused_data != NULL)) {
		c->wake = true;
		c->ifc->wakes++;
	}
}

int vnet_tcp_send(struct vnet_tcp *c, const void *data, size_t len)
{
	const uint8_t *d = data;
	size_t total = 0, chunk, avail;
	unsigned guard = 0;
	err_t e = ERR_OK;

	if (c == NULL || c->state != CONN_OPEN || c->pcb == NULL)
		return -ENOTCONN;
	if (len == 0)
		return 0;
	if (data == NULL)
		return -EINVAL;
	/* tcp_write takes at most 64 KiB; a few rounds fill TCP_SND_BUF. */
	while (total < len && guard++ < 16) {
		avail = tcp_sndbuf(c->pcb);
		if (avail == 0)
			break;
		chunk = len - total;
		if (chunk > avail)
			chunk = avail;
		if (chunk > 0xffffu)
			chunk = 0xffffu;
		e = tcp_write(c->pcb, d + total, (u16_t)chunk,
		              TCP_WRITE_FLAG_COPY | (total + chunk < len ? TCP_WRITE_FLAG_MORE : 0));
		if (e != ERR_OK)
			break;
		total += chunk;
	}
	if (total == 0)
		return e == ERR_OK || e == ERR_MEM ? -EAGAIN : err_to_errno(e);
	tcp_output(c->pcb); /* on error the data stays queued; timers retry */
	return (int)total;
}

size_t vnet_tcp_sndbuf(const struct vnet_tcp *c)
{
	if (c == NULL || c->state != CONN_OPEN || c->pcb == NULL)
		return 0;
	return tcp_sndbuf(c->pcb);
}

size_t vnet_tcp_unacked(const struct vnet_tcp *c)
{
	if (c == NULL || c->state != CONN_OPEN || c->pcb == NULL)
		return 0;
	/* snd_buf itself: tcp_sndbuf() caps it at 64 KiB (16-bit API), which
	 * would count TCP_SND_BUF - 64 KiB as never acknowledged */
	return c->pcb->snd_buf >= TCP_SND_BUF ? 0u : (size_t)(TCP_SND_BUF - c->pcb->snd_buf);
}

/* Reopen @len bytes of the receive window (lwIP takes 16 bits at a time). */
static void window_open(struct vnet_tcp *c, uint32_t len)
{
	unsigned guard;

	if (len > c->held)
		len = c->held;
	c->held -= len;
	if (c->pcb == NULL || c->state != CONN_OPEN)
		return;
	for (guard = 0; len > 0 && guard < 0x10000u; guard++) {
		u16_t n = len > 0xffffu ? 0xffffu : (u16_t)len;

		tcp_recved(c->pcb, n);
		len -= n;
	}
}

int vnet_tcp_set_manual_window(struct vnet_tcp *c, bool on)
{
	if (c == NULL || c->state == CONN_FREE || c->state == CONN_DEAD)
		return -EINVAL;
	c->manual_wnd = on;
	if (!on)
		window_open(c, c->held);
	return 0;
}

int vnet_tcp_recved(struct vnet_tcp *c, size_t len)
{
	if (c == NULL || c->state == CONN_FREE || c->state == CONN_DEAD)
		return -EINVAL;
	window_open(c, len > c->held ? c->held : (uint32_t)len);
	return 0;
}

int vnet_tcp_close(struct vnet_tcp *c)
{
	struct tcp_pcb *pcb;

	if (c == NULL || c->state == CONN_FREE)
		return -EINVAL;
	if (c->state == CONN_DEAD)
		return 0; /* already gone; released after its callback */
	window_open(c, c->held); /* unread data would make lwIP send RST */
	pcb = c->pcb;
	if (pcb != NULL) {
		if (c->state == CONN_DIALING) {
			pcb_kill(pcb);
		} else {
			pcb_detach(pcb);
			if (tcp_close(pcb) != ERR_OK) { /* no memory for the FIN */
				cb_mark_aborted(pcb);
				tcp_abort(pcb);
			}
		}
	}
	conn_release(c);
	return 0;
}

void vnet_tcp_abort(struct vnet_tcp *c)
{
	if (c == NULL || c->state == CONN_FREE || c->state == CONN_DEAD)
		return;
	if (c->pcb != NULL)
		pcb_kill(c->pcb);
	conn_release(c);
}

int vnet_tcp_peer(const struct vnet_tcp *c, uint32_t *ip, uint16_t *port)
{
	if (c == NULL || c->pcb == NULL || c->state == CONN_FREE)
		return -ENOTCONN;
	if (IP_IS_V6_VAL(c->pcb->remote_ip))
		return -EAFNOSUPPORT;
	if (ip != NULL)
		*ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&c->pcb->remote_ip)));
	if (port != NULL)
		*port = c->pcb->remote_port;
	return 0;
}

int vnet_tcp_peer_addr(const struct vnet_tcp *c, struct vnet_addr *out)
{
	if (out == NULL)
		return -EINVAL;
	if (c == NULL || c->pcb == NULL || c->state == CONN_FREE)
		return -ENOTCONN;
	addr_from_ip(out, &c->pcb->remote_ip, c->pcb->remote_port);
	return 0;
}

/* -------------------------------------------------------------- UDP -- */

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
	if (ip6_is_zero(a->ip6))
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
	    (r.family == VNET_ADDR_IP4 ? r.ip4 == 0 : !ip6_unicast(r.ip6)))
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
	if (to->family == VNET_ADDR_IP4 ? to->ip4 == 0 : to->family == VNET_ADDR_IP6 && ip6_is_zero(to->ip6))
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
