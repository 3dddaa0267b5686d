/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file iface.h
 * @brief vnet Interface API: lwIP (NO_SYS, raw API) over a vnet device.
 *
 * Modelled on the Go package's Interface (Init, ListenerTCP4, DialTCP4,
 * DialContextTCP4, DialUDP4, EnableICMP, Socket), in C and callback style:
 * nothing blocks; the application calls vnet_iface_poll() in its loop and
 * lwIP calls back from inside it.
 *
 * IPv4 and IPv6 (dual stack): every interface has its IPv4 address, an
 * IPv6 link-local address made from the MAC and, optionally, a static IPv6
 * address (vnet_iface_conf.ip6). TCP listeners take connections on all of
 * them; dials and UDP take either family (struct vnet_addr, or "[addr]:port"
 * strings). An IPv6 address is usable once duplicate address detection has
 * passed, about a second after the link comes up (vnet_iface_ip6()).
 *
 * Threading: lwIP keeps global state, so every call here (and every lwIP
 * raw-API call) must come from one thread, the one that polls. Several
 * interfaces may live in one process (lwip_init() runs once); each one's
 * traffic leaves through its own device.
 *
 * Addresses in numeric form are IPv4 in host byte order
 * (10.0.0.1 is 0x0A000001) and IPv6 as 16 bytes in network order
 * (fd00::1 is fd 00 00 ... 00 01).
 *
 * Handles (struct vnet_tcp, struct vnet_udp, ...) come from fixed tables
 * sized at init; a handle is invalid once closed, or once its error or
 * failed-connect callback has returned.
 *
 * Callbacks run inside vnet_iface_poll(). They may send, close and dial,
 * but must not call vnet_iface_close() on the interface being polled.
 *
 * Counters: lwIP's statistics are global to the process; with several
 * interfaces, the lwIP part of vnet_iface_stats is their sum.
 */
#ifndef VNET_IFACE_H
#define VNET_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/vnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An interface: one lwIP netif over one vnet device (opaque). */
struct vnet_iface;
/** A TCP connection (opaque). */
struct vnet_tcp;
/** A listening TCP port (opaque). */
struct vnet_tcp_listener;
/** A UDP endpoint (opaque). */
struct vnet_udp;
/** lwIP's netif (lwip/netif.h), for raw-API users. */
struct netif;

/** @name Address families (vnet_addr.family)
 * @{ */
#define VNET_ADDR_IP4 4 /**< IPv4 */
#define VNET_ADDR_IP6 6 /**< IPv6 */
/** @} */

/** An IPv4 or IPv6 address with a port, for the calls that take either family. */
struct vnet_addr {
	uint8_t family;   /**< VNET_ADDR_IP4 or VNET_ADDR_IP6 */
	uint16_t port;    /**< port, host byte order */
	uint32_t ip4;     /**< IPv4 address, host byte order (VNET_ADDR_IP4) */
	uint8_t ip6[16];  /**< IPv6 address, network byte order (VNET_ADDR_IP6) */
};

/** Room for the text form of any IPv6 address (vnet_iface_format_ip6()), NUL included. */
#define VNET_IFACE_IP6_STRLEN 40

/** Interface options. Zero fields take the defaults shown. */
struct vnet_iface_conf {
	uint32_t ip;             /**< address, host byte order (required) */
	uint32_t netmask;        /**< contiguous mask, host byte order (required) */
	uint32_t gateway;        /**< default gateway, host order (0: none) */
	struct vnet_pool *pool;  /**< TX buffers, RX slot table (the device's pool) */
	uint32_t rx_reserve;     /**< copy RX frames when fewer free pool buffers than this (count/4) */
	uint32_t link_poll_ms;   /**< re-read the device STATUS this often (20) */
	uint16_t rx_burst;       /**< frames per RX burst (32, at most 64) */
	uint16_t max_tcp;        /**< TCP connection handles (0: one per lwIP TCP PCB, so that no connection lwIP
	                              accepts is reset for want of a handle) */
	uint16_t max_listeners;  /**< TCP listener handles (16) */
	uint16_t max_udp;        /**< UDP handles (16) */
	bool rx_copy;            /**< copy every frame instead of zero-copy RX (build default VNET_LWIP_RX_COPY) */
	bool icmp_echo;          /**< answer pings from the start (off, like the Go package) */
	bool no_rx_csum_check;   /**< trust every frame's checksums (off: lwIP checks) */
	bool default_netif;      /**< make this lwIP's default netif (the first interface is) */
	/* Appended: zero keeps the behaviour of an interface without them. */
	/**
	 * TX buffers for frames larger than a buffer of @c pool: jumbo frames
	 * (an MTU past the pool's data room) and the TCP segments the
	 * interface coalesces for VNET_F_HOST_TSO4. The device sends each
	 * frame from one descriptor, so a frame must fit one buffer: size
	 * these for the largest frame (65536-byte buffers for TSO). The
	 * caller creates this pool and destroys it after vnet_dev_close()
	 * (buffers in flight return to it until then). NULL: frames are
	 * limited to @c pool's data room and TSO is not used.
	 */
	struct vnet_pool *tx_jumbo_pool;
	/**
	 * The interface MTU (0: the device's, 1500 without VNET_F_MTU). It is
	 * capped at the device's MTU when VNET_F_MTU was negotiated, at what a
	 * receive buffer holds unless VNET_F_MRG_RXBUF was negotiated, and at
	 * what a TX buffer (either pool) holds.
	 */
	uint16_t mtu;
	bool no_tx_csum;         /**< compute TCP/UDP checksums even with VNET_F_CSUM negotiated */
	bool no_tso;             /**< do not coalesce TCP segments even with VNET_F_HOST_TSO4/6 negotiated */
	bool no_gro;             /**< hand every received TCP segment to lwIP alone (no software coalescing) */
	/**
	 * A static IPv6 address, network byte order (all zero: none; the
	 * link-local address from the MAC is there in any case). Neither
	 * multicast, unspecified nor loopback.
	 */
	uint8_t ip6[16];
	/**
	 * The prefix length of @c ip6, 1 to 128 (0: 64), as vnet_iface_ip6()
	 * reports it. lwIP 2.1.3 reaches the /64 around a static address
	 * directly (neighbour discovery) whatever the length, and anything
	 * else through a router it learnt from router advertisements.
	 */
	uint8_t ip6_prefix_len;
	bool no_ip6;             /**< no IPv6: no addresses, IPv6 frames go to the frame hook as before */
};

/**
 * The device features the interface makes use of when negotiated: pass
 * them in vnet_dev_conf.features (negotiation keeps what the device
 * offers). VNET_F_GUEST_TSO4/6 need VNET_F_MRG_RXBUF negotiated too, or
 * receive buffers of 65550 bytes and more (vnet_iface_init refuses them
 * otherwise); VNET_F_HOST_TSO4/6 need @c tx_jumbo_pool.
 */
#define VNET_IFACE_FEATURES                                                          \
	(VNET_F_DEFAULT | VNET_F_CSUM | VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 |          \
	 VNET_F_GUEST_TSO6 | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6 | VNET_F_MRG_RXBUF |     \
	 VNET_F_CTRL_VQ | VNET_F_GUEST_ANNOUNCE | VNET_F_SPEED_DUPLEX)

/** @name What an interface does in hardware (vnet_iface_info.offloads)
 * @{ */
#define VNET_IFACE_OFF_TX_CSUM 0x01 /**< TCP/UDP checksums are left to the device (VNET_F_CSUM) */
#define VNET_IFACE_OFF_RX_CSUM 0x02 /**< checksums the device validated are not checked again (VNET_F_GUEST_CSUM) */
#define VNET_IFACE_OFF_TSO     0x04 /**< consecutive TCP segments leave as one TSO frame (VNET_F_HOST_TSO4) */
#define VNET_IFACE_OFF_LRO     0x08 /**< large TCP segments are received whole (VNET_F_GUEST_TSO4) */
#define VNET_IFACE_OFF_MRG     0x10 /**< a frame may span several receive buffers (VNET_F_MRG_RXBUF) */
#define VNET_IFACE_OFF_TSO6    0x20 /**< as VNET_IFACE_OFF_TSO, over IPv6 (VNET_F_HOST_TSO6) */
#define VNET_IFACE_OFF_LRO6    0x40 /**< as VNET_IFACE_OFF_LRO, over IPv6 (VNET_F_GUEST_TSO6) */
/** @} */

/** An IPv6 address of an interface (vnet_iface_ip6()). */
struct vnet_iface_ip6 {
	uint8_t addr[16];     /**< network byte order */
	uint8_t prefix_len;   /**< prefix length (as configured; 64 for the link-local address) */
	bool link_local;      /**< the link-local address (fe80::/64, from the MAC) */
	bool usable;          /**< duplicate address detection passed: it sends and receives */
	bool duplicate;       /**< another node on the link has it: never usable */
};

/** What an interface runs with (vnet_iface_info()). */
struct vnet_iface_info {
	uint64_t features;    /**< device features negotiated */
	uint32_t offloads;    /**< VNET_IFACE_OFF_* in use */
	uint16_t mtu;         /**< the interface MTU */
	bool link_up;         /**< as lwIP sees it */
	uint8_t duplex;       /**< 1 full, 0 half, 0xff unknown (VNET_F_SPEED_DUPLEX) */
	uint32_t speed_mbps;  /**< link speed (VNET_F_SPEED_DUPLEX; UINT32_MAX unknown) */
	uint32_t max_frame;   /**< largest frame the interface sends (bytes, Ethernet header included) */
};

/** Counters of one protocol layer (lwIP's: process-wide). */
struct vnet_iface_proto_stats {
	uint64_t xmit;   /**< sent */
	uint64_t recv;   /**< received */
	uint64_t drop;   /**< dropped */
	uint64_t chkerr; /**< dropped for a bad checksum */
	uint64_t lenerr; /**< dropped for a bad length */
	uint64_t memerr; /**< out of memory */
	uint64_t proterr;/**< protocol errors */
};

/** Interface counters. */
struct vnet_iface_stats {
	struct vnet_queue_stats rxq;   /**< the device's RX queue */
	struct vnet_queue_stats txq;   /**< the device's TX queue */
	uint64_t rx_frames;        /**< frames taken from the device */
	uint64_t rx_zero_copy;     /**< ... handed to lwIP in place (pbuf_custom) */
	uint64_t rx_copied;        /**< ... copied into a PBUF_POOL pbuf (reserve low, copy mode) */
	uint64_t rx_nomem;         /**< ... dropped: no pbuf for the copy */
	uint64_t rx_runt;          /**< ... dropped: shorter than an Ethernet header */
	uint64_t rx_hooked;        /**< ... taken by the raw-frame hook */
	uint64_t rx_unknown;       /**< ... dropped: ethertype neither IPv4, ARP nor IPv6 (unless no_ip6), no hook */
	uint64_t rx_icmp_filtered; /**< ... dropped: ICMP or ICMPv6 echo request with ICMP echo off */
	uint64_t rx_csum_trusted;  /**< ... whose checksum check was skipped (device DATA_VALID) */
	uint64_t tx_frames;        /**< frames the TX ring accepted */
	uint64_t tx_ring_full;     /**< frames refused: batch and ring full (ERR_MEM) */
	uint64_t tx_nobuf;         /**< frames refused: pool empty */
	uint64_t tx_link_down;     /**< frames refused: link down */
	uint64_t tx_too_big;       /**< frames refused: larger than a pool buffer */
	uint64_t link_changes;     /**< link up/down transitions seen */
	uint32_t rx_held;          /**< pool buffers lwIP holds now (zero-copy) */
	uint32_t tx_queued;        /**< frames in the TX batch, waiting for the ring */
	/* lwIP's counters: global to the process, shared by all interfaces. */
	struct vnet_iface_proto_stats link;   /**< lwIP link layer */
	struct vnet_iface_proto_stats etharp; /**< ARP */
	struct vnet_iface_proto_stats ip;     /**< IPv4 */
	struct vnet_iface_proto_stats icmp;   /**< ICMP */
	struct vnet_iface_proto_stats udp;    /**< UDP (both families) */
	struct vnet_iface_proto_stats tcp;    /**< TCP (both families) */
	uint64_t mem_err;          /**< lwIP heap allocation failures */
	uint64_t memp_err;         /**< lwIP pool allocation failures (all pools) */
	uint64_t lwip_asserts;     /**< lwIP assertions that failed (logged, not fatal) */
	/* Appended. */
	uint64_t rx_chained;       /**< frames that spanned several receive buffers (MRG_RXBUF) */
	uint64_t rx_gso;           /**< large segments received whole (GUEST_TSO4 and GUEST_TSO6) */
	uint64_t rx_csum_partial;  /**< frames with a partial TCP/UDP checksum the device vouched for (NEEDS_CSUM) */
	uint64_t rx_csum_finished; /**< partial checksums of other layouts completed in software */
	uint64_t rx_bad_hdr;       /**< frames dropped: virtio_net_hdr checksum fields outside the frame */
	uint64_t rx_too_big;       /**< frames dropped: longer than lwIP's 65535-byte pbuf */
	uint64_t tx_csum_offload;  /**< frames sent with NEEDS_CSUM (checksum left to the device) */
	uint64_t tx_jumbo;         /**< frames sent from the jumbo pool */
	uint64_t tx_gso;           /**< TSO frames sent (each two or more TCP segments; IPv4 and IPv6) */
	uint64_t tx_gso_segs;      /**< TCP segments coalesced into them */
	uint64_t announces;        /**< gratuitous ARPs sent because the device asked (STATUS ANNOUNCE) */
	/* Appended (IPv6). */
	uint64_t rx_gso6;          /**< ... of rx_gso: over IPv6 (GUEST_TSO6) */
	uint64_t rx_gro;           /**< TCP/IPv4 segments lwIP got coalesced from several received ones */
	uint64_t rx_gro_segs;      /**< received segments in them */
	uint64_t rx_bad_gso;       /**< frames dropped: a GSO type (device header) not negotiated or not the frame's */
	uint64_t tx_gso6;          /**< ... of tx_gso: over IPv6 (HOST_TSO6) */
	uint64_t tx_gso6_segs;     /**< ... of tx_gso_segs: over IPv6 */
	struct vnet_iface_proto_stats ip6;   /**< IPv6 (lwIP, process-wide) */
	struct vnet_iface_proto_stats icmp6; /**< ICMPv6 (lwIP, process-wide) */
	struct vnet_iface_proto_stats nd6;   /**< neighbour discovery (lwIP, process-wide) */
	/* Appended. */
	uint64_t rx_gro_capped;    /**< received segments that followed on from a coalesced one but started the next:
	                                 the 64 KiB or segment-count bound was reached */
	/* The SYN-flood defence (process-wide, as lwIP is): a listener holds at
	 * most syn_half_open_max half-open connections; past that, or with the
	 * TCP PCB pool nearly empty, a new SYN sheds the ones heard from least
	 * recently, silently. */
	uint64_t syn_seen;          /**< SYNs that reached a listener */
	uint64_t syn_shed;          /**< half-open connections shed: their listener was at the bound */
	uint64_t syn_shed_reserve;  /**< half-open connections shed: the TCP PCB pool was at its reserve */
	uint32_t syn_half_open;     /**< half-open connections now (all listeners) */
	uint32_t syn_half_open_peak;/**< the most one listener was seen holding */
	uint32_t syn_half_open_max; /**< the bound per listener */
	uint32_t tcp_pcbs_used;     /**< lwIP TCP PCBs in use now, of ... */
	uint32_t tcp_pcbs;          /**< ... this many (MEMP_NUM_TCP_PCB) */
	/* Appended: large send (HOST_TSO4/6). */
	uint64_t tx_large;          /**< TCP segments lwIP built larger than the link's MSS, cut by the device
	                                 (each also counted in tx_gso, its wire segments in tx_gso_segs) */
	uint64_t tx_large_conns;    /**< connections whose MSS was raised for large send */
	uint64_t tx_large_broken;   /**< large segments dropped while their IP fragments were joined (TCP resends) */
};

/* ------------------------------------------------------- interface -- */

/**
 * Bring up an interface on @p dev with dotted-quad strings, like the Go
 * Interface.Init. @p gateway may be NULL or "". TX buffers come from the
 * pool the device was opened with. -EINVAL for a malformed address or a
 * non-contiguous mask.
 */
int vnet_iface_init(struct vnet_iface **ifc, struct vnet_dev *dev,
                    const char *ip, const char *netmask, const char *gateway);
/** Same with numeric addresses in host byte order (0x0A000001 = 10.0.0.1). */
int vnet_iface_init4(struct vnet_iface **ifc, struct vnet_dev *dev,
                     uint32_t ip, uint32_t netmask, uint32_t gateway);
/** Same with every option. The device stays the caller's. */
int vnet_iface_init_conf(struct vnet_iface **ifc, struct vnet_dev *dev,
                         const struct vnet_iface_conf *conf);
/**
 * Remove the interface: its connections are aborted, its netif removed,
 * and every pool buffer it or lwIP held goes back to the pool. The device
 * is not closed. NULL is a no-op.
 */
void vnet_iface_close(struct vnet_iface *ifc);
/**
 * One run-to-completion step: link check (on schedule), one RX burst into
 * lwIP, one TX burst of what lwIP queued, lwIP's timers, RX refill.
 * @return frames received + frames sent (0 when idle), or -EIO when the
 * device is broken (vnet_dev_recover()).
 */
int vnet_iface_poll(struct vnet_iface *ifc);
/** Milliseconds until lwIP's next timer is due (an idle loop may sleep that long). */
uint32_t vnet_iface_sleeptime_ms(void);
/** Parse a dotted quad into host byte order. 0 or -EINVAL. */
int vnet_iface_parse_ip4(const char *s, uint32_t *out);
/** Parse "a.b.c.d:port" (or ":port" when @p ip may be 0). 0 or -EINVAL. */
int vnet_iface_parse_addr4(const char *s, uint32_t *ip, uint16_t *port);
/**
 * Parse an IPv6 address in text form (RFC 4291 2.2: hexadecimal groups,
 * one "::" at most; no embedded IPv4, no zone) into 16 bytes, network
 * byte order. 0 or -EINVAL.
 */
int vnet_iface_parse_ip6(const char *s, uint8_t out[16]);
/**
 * Write @p ip in the text form of RFC 5952 (lowercase, the longest run of
 * zero groups as "::"). @return its length, or -ENOSPC if @p len is
 * smaller than it plus the NUL (VNET_IFACE_IP6_STRLEN is always enough).
 */
int vnet_iface_format_ip6(const uint8_t ip[16], char *buf, size_t len);
/**
 * Parse "a.b.c.d:port", ":port" (IPv4, address 0) or "[v6]:port" (IPv6,
 * "[::]:port" for address 0) into @p out. 0 or -EINVAL.
 */
int vnet_iface_parse_addr(const char *s, struct vnet_addr *out);
/** Answer ICMP and ICMPv6 echo requests (on) or drop them before lwIP sees them (off). */
int vnet_iface_enable_icmp(struct vnet_iface *ifc, bool on);
/** Copy every received frame (on) or hand pool buffers to lwIP in place (off). */
void vnet_iface_set_rx_copy(struct vnet_iface *ifc, bool on);
/** Check received checksums in lwIP (on, the default) or trust them all (off). */
void vnet_iface_set_rx_csum_check(struct vnet_iface *ifc, bool on);
/** The interface's address, host byte order. */
uint32_t vnet_iface_ip4(const struct vnet_iface *ifc);
/**
 * The interface's IPv6 address number @p i (0: the link-local one, then
 * the static one). 0, -ENOENT past the last, -EINVAL.
 */
int vnet_iface_ip6(const struct vnet_iface *ifc, unsigned i, struct vnet_iface_ip6 *out);
/** The interface's MAC address (from the device); all zero for a NULL interface. */
void vnet_iface_mac(const struct vnet_iface *ifc, uint8_t mac[6]);
/** Whether lwIP sees the link up (follows the device STATUS). */
bool vnet_iface_link_up(const struct vnet_iface *ifc);
/** What the interface runs with: features, offloads, MTU, link speed and duplex. */
int vnet_iface_info(const struct vnet_iface *ifc, struct vnet_iface_info *out);
/** The lwIP netif, for raw-API users (raw_bind_netif, ...); NULL for a NULL interface. */
struct netif *vnet_iface_netif(struct vnet_iface *ifc);

/** Called when the link goes up or down. */
typedef void (*vnet_iface_link_fn)(struct vnet_iface *ifc, bool up, void *arg);
/** Install (or clear, with NULL) the link-change callback. */
void vnet_iface_set_link_cb(struct vnet_iface *ifc, vnet_iface_link_fn fn, void *arg);

/**
 * A raw-frame hook (like the Go Socket hook): called for each received
 * frame whose ethertype lwIP does not handle (neither IPv4, ARP nor, unless
 * vnet_iface_conf.no_ip6, IPv6).
 * @p frame starts with the Ethernet header and is valid during the call.
 * Return true if consumed; false drops it (counted in rx_unknown).
 */
typedef bool (*vnet_iface_frame_fn)(struct vnet_iface *ifc, uint16_t ethertype,
                                    const uint8_t *frame, uint32_t len, void *arg);
/** Install (or clear, with NULL) the raw-frame hook. */
void vnet_iface_set_frame_hook(struct vnet_iface *ifc, vnet_iface_frame_fn fn, void *arg);
/** Send one raw Ethernet frame (copied). 0, -EMSGSIZE, -ENETDOWN or -EAGAIN. */
int vnet_iface_send_frame(struct vnet_iface *ifc, const void *frame, uint32_t len);

/** Copy the interface's counters (and lwIP's global ones). */
int vnet_iface_stats(const struct vnet_iface *ifc, struct vnet_iface_stats *out);

/* ------------------------------------------------------------- TCP -- */

/** A new connection on a listener. Set its callbacks here (vnet_tcp_set_callbacks). */
typedef void (*vnet_tcp_accept_fn)(struct vnet_tcp *c, void *arg);
/** A dial finished: @p err 0 (connected), -ETIMEDOUT, -ECONNREFUSED, ... On error @p c is gone. */
typedef void (*vnet_tcp_connect_fn)(struct vnet_tcp *c, int err, void *arg);
/**
 * Data arrived (valid during the call; the window is reopened for it).
 * @p len 0 means the peer closed its side (EOF).
 */
typedef void (*vnet_tcp_recv_fn)(struct vnet_tcp *c, const void *data, size_t len, void *arg);
/** The peer acknowledged @p acked more bytes: send space opened. */
typedef void (*vnet_tcp_sent_fn)(struct vnet_tcp *c, size_t acked, void *arg);
/** The connection died (-ECONNRESET, -ECONNABORTED, ...); @p c is gone after this. */
typedef void (*vnet_tcp_err_fn)(struct vnet_tcp *c, int err, void *arg);

/**
 * Listen on @p port of the interface's addresses (ListenerTCP4): its IPv4
 * address and every IPv6 address it has when called.
 */
int vnet_tcp_listen(struct vnet_iface *ifc, uint16_t port, vnet_tcp_accept_fn fn,
                    void *arg, struct vnet_tcp_listener **out);
/** Stop listening; connections already accepted stay. */
void vnet_tcp_listener_close(struct vnet_tcp_listener *l);
/**
 * Connect to "a.b.c.d:port" or "[v6]:port" (DialTCP4; with @p timeout_ms,
 * DialContextTCP4). Returns at once; @p fn reports the outcome from inside
 * vnet_iface_poll(). @p timeout_ms 0 leaves it to TCP's SYN retries. An
 * IPv6 dial before the interface has a usable IPv6 address fails with
 * -EHOSTUNREACH.
 */
int vnet_tcp_dial(struct vnet_iface *ifc, const char *addr, uint32_t timeout_ms,
                  vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out);
/** Same with a numeric address (host byte order). */
int vnet_tcp_dial4(struct vnet_iface *ifc, uint32_t ip, uint16_t port, uint32_t timeout_ms,
                   vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out);
/** Same with an address of either family. */
int vnet_tcp_dial_addr(struct vnet_iface *ifc, const struct vnet_addr *to, uint32_t timeout_ms,
                       vnet_tcp_connect_fn fn, void *arg, struct vnet_tcp **out);
/** Set the data callbacks and their argument (replaces the dial/accept arg). */
void vnet_tcp_set_callbacks(struct vnet_tcp *c, vnet_tcp_recv_fn recv, vnet_tcp_sent_fn sent,
                            vnet_tcp_err_fn err, void *arg);
/**
 * Queue data (copied) and push it out. Back-pressure: @return bytes
 * accepted (maybe fewer than @p len), -EAGAIN when none fit (wait for the
 * sent callback), -ENOTCONN when not connected.
 */
int vnet_tcp_send(struct vnet_tcp *c, const void *data, size_t len);
/** Bytes vnet_tcp_send() would accept now. */
size_t vnet_tcp_sndbuf(const struct vnet_tcp *c);
/** Bytes sent but not yet acknowledged, plus queued. */
size_t vnet_tcp_unacked(const struct vnet_tcp *c);
/**
 * Flow control by the application: with @p on, data delivered to the recv
 * callback keeps its room in the receive window until vnet_tcp_recved()
 * gives it back (off, the default: the window reopens as data is
 * delivered, so a peer can send as fast as the callback returns). Turning
 * it off, and vnet_tcp_close(), give back what is still held.
 */
int vnet_tcp_set_manual_window(struct vnet_tcp *c, bool on);
/** With a manual window: @p len bytes delivered earlier are consumed; reopen the window by as much. */
int vnet_tcp_recved(struct vnet_tcp *c, size_t len);
/** Close gracefully (FIN after queued data); @p c is invalid afterwards. */
int vnet_tcp_close(struct vnet_tcp *c);
/** Reset the connection (RST); @p c is invalid afterwards. */
void vnet_tcp_abort(struct vnet_tcp *c);
/** The peer's address and port (host byte order); -EAFNOSUPPORT for an IPv6 peer. */
int vnet_tcp_peer(const struct vnet_tcp *c, uint32_t *ip, uint16_t *port);
/** The peer's address and port, either family. */
int vnet_tcp_peer_addr(const struct vnet_tcp *c, struct vnet_addr *out);

/* ------------------------------------------------------------- UDP -- */

/** A datagram arrived (valid during the call). @p src_ip is 0 for an IPv6 sender. */
typedef void (*vnet_udp_recv_fn)(struct vnet_udp *u, const void *data, size_t len,
                                 uint32_t src_ip, uint16_t src_port, void *arg);
/** A datagram arrived from @p src, either family (data and @p src valid during the call). */
typedef void (*vnet_udp_recvfrom_fn)(struct vnet_udp *u, const void *data, size_t len,
                                     const struct vnet_addr *src, void *arg);
/** Bind a UDP endpoint to @p port (0: ephemeral) of the interface's IPv4 address. */
int vnet_udp_bind(struct vnet_iface *ifc, uint16_t port, vnet_udp_recv_fn fn, void *arg,
                  struct vnet_udp **out);
/**
 * Bind a UDP endpoint to @p port (0: ephemeral) of the interface's
 * addresses of both families: its IPv4 address and any IPv6 one.
 */
int vnet_udp_bind_addr(struct vnet_iface *ifc, uint16_t port, vnet_udp_recvfrom_fn fn, void *arg,
                       struct vnet_udp **out);
/**
 * Like DialUDP4: bind to @p laddr ("ip:port", ":port", "[v6]:port" or NULL
 * for an ephemeral port) and connect to @p raddr ("a.b.c.d:port" or
 * "[v6]:port"). The endpoint has the family of @p raddr.
 */
int vnet_udp_dial(struct vnet_iface *ifc, const char *laddr, const char *raddr,
                  vnet_udp_recv_fn fn, void *arg, struct vnet_udp **out);
/** Send one datagram to @p ip:@p port (host order). 0 or -errno. */
int vnet_udp_sendto(struct vnet_udp *u, uint32_t ip, uint16_t port, const void *data, size_t len);
/** Send one datagram to @p to, either family (-EAFNOSUPPORT if the endpoint is not bound to it). */
int vnet_udp_sendto_addr(struct vnet_udp *u, const struct vnet_addr *to, const void *data, size_t len);
/** Send one datagram to the dialed peer. 0 or -errno. */
int vnet_udp_send(struct vnet_udp *u, const void *data, size_t len);
/** The local port (host order). */
uint16_t vnet_udp_port(const struct vnet_udp *u);
/** Close the endpoint; @p u is invalid afterwards. */
void vnet_udp_close(struct vnet_udp *u);

#ifdef __cplusplus
}
#endif
#endif
