/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Interface API's TCP (include/vnet/iface.h): connections, listeners
 * and dials as handles from fixed per-interface tables, over lwIP's raw
 * TCP API, whose callbacks land here and go on to the application's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/ip6_addr.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h" /* tcp_process_refused_data */

#include "base/platform.h"
#include "iface_priv.h"

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

/* Put @c back on the free list. */
static void conn_free(struct vnet_tcp *c)
{
	struct vnet_iface *ifc = c->ifc;

	c->state = CONN_FREE;
	c->pcb = NULL;
	c->next_free = ifc->tcp_free;
	ifc->tcp_free = c;
}

/* A handle is DEAD while its error or failed-connect callback runs: the
 * API ignores it then, and the caller releases it when the callback
 * returns (so a dial from inside the callback cannot be handed this slot).
 * A FREE handle is on the free list already (releasing it twice would
 * put it there twice). */
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
	conn_free(c);
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
			 * receive callback (vnet_ifc_tcp_wake_readers) */
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
void vnet_ifc_tcp_wake_readers(struct vnet_iface *ifc)
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
void vnet_ifc_tcp_expire_dials(struct vnet_iface *ifc, uint64_t now)
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

int vnet_ifc_tcp_alloc(struct vnet_iface *ifc)
{
	uint16_t i;

	ifc->tcp = calloc(ifc->max_tcp, sizeof(*ifc->tcp));
	ifc->lis = calloc(ifc->max_lis, sizeof(*ifc->lis));
	if (ifc->tcp == NULL || ifc->lis == NULL)
		return -ENOMEM;
	for (i = ifc->max_tcp; i > 0; i--) {
		ifc->tcp[i - 1].ifc = ifc;
		ifc->tcp[i - 1].next_free = ifc->tcp_free;
		ifc->tcp_free = &ifc->tcp[i - 1];
	}
	return 0;
}

void vnet_ifc_tcp_close_all(struct vnet_iface *ifc)
{
	uint16_t i;

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
}

/* ------------------------------------------------------------ the API -- */

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
	/* until the dial is under way the handle is FREE (conn_release would
	 * leave it off the free list): a failure gives it back with conn_free */
	pcb = tcp_new_ip_type(IP_GET_TYPE(remote));
	if (pcb == NULL) {
		conn_free(c);
		return -ENOMEM;
	}
	if (IP_IS_V6_VAL(*remote))
		ip_addr_set_zero_ip6(&local);
	else
		ip_from4(&local, vnet_iface_ip4(ifc));
	e = tcp_bind(pcb, &local, 0);
	if (e == ERR_OK) {
		tcp_bind_netif(pcb, &ifc->vn.nif);
		c->on_connect = fn;
		c->arg = arg;
		conn_attach(c, pcb);
		e = tcp_connect(pcb, remote, port, on_tcp_connected);
	}
	if (e != ERR_OK) { /* ERR_RTE: no usable source address (IPv6 before DAD) */
		pcb_kill(pcb);
		conn_free(c);
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
	 * poll (vnet_ifc_tcp_wake_readers), not from inside this call */
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
