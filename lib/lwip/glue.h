/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the lwIP glue: the port functions (port.c) and the netif over
 * a vnet device - its set-up and link (netif.c), TX (tx.c), RX (rx.c) and
 * software receive coalescing (gro.c) - which the Interface API (iface.c,
 * tcp.c, udp.c; iface_priv.h) sits on. The frames the netif reads and
 * writes are laid out in frame.h.
 */
#ifndef VNET_LWIP_GLUE_H
#define VNET_LWIP_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "vnet/vnet.h"
#include "vnet/iface.h"

/* ---- port.c ---- */
#define VNET_LWIP_MAX_NETIFS 255u          /* lwIP numbers netifs in a u8 */
uint64_t vnet_lwip_assert_count(void);
void vnet_lwip_seed(uint64_t seed);
/* The prefix length given for the static IPv6 address in @slot of @n (0:
 * none), recorded for vnet_iface_ip6(). */
void vnet_lwip_set_prefix6(const struct netif *n, unsigned slot, uint8_t len);

/* What the SYN-flood defence (port.c) did; process-wide, as lwIP is. */
struct vnet_lwip_syn_stats {
	uint64_t syns;           /* SYNs that reached a listener */
	uint64_t shed;           /* half-open connections dropped: their listener was at the bound */
	uint64_t shed_reserve;   /* ... dropped: the PCB pool was down to its reserve */
	uint32_t half_open;      /* half-open connections now (all listeners) */
	uint32_t half_open_peak; /* most one listener was seen holding */
	uint32_t half_open_max;  /* VNET_TCP_HALF_OPEN_MAX */
	uint32_t pcbs_used;      /* TCP PCBs in use now, of ... */
	uint32_t pcbs;           /* ... MEMP_NUM_TCP_PCB */
};
void vnet_lwip_syn_stats(struct vnet_lwip_syn_stats *out);
uint8_t vnet_lwip_prefix6(const struct netif *n, unsigned slot);

/* ---- the netif: netif.c, tx.c, rx.c, gro.c ---- */
#define VNET_NETIF_TX_BATCH 32u  /* frames lwIP may queue between TX bursts */
#define VNET_NETIF_RX_BURST_MAX 64u

struct vnet_netif;

/* One per pool buffer, indexed by buf->idx: the pbuf_custom lwIP sees for
 * a zero-copy frame. Never allocated per packet. */
struct vnet_rx_slot {
	struct pbuf_custom pc;     /* first: lwIP hands back &pc.pbuf */
	struct vnet_buf *buf;      /* NULL when the slot is free */
	struct vnet_netif *vn;
};

struct vnet_netif_counters {
	uint64_t rx_frames, rx_zero_copy, rx_copied, rx_nomem, rx_runt;
	uint64_t rx_hooked, rx_unknown, rx_icmp_filtered, rx_csum_trusted;
	uint64_t tx_frames, tx_ring_full, tx_nobuf, tx_link_down, tx_too_big;
	uint64_t link_changes;
	uint64_t rx_chained, rx_gso, rx_csum_partial, rx_csum_finished, rx_bad_hdr, rx_too_big;
	uint64_t tx_csum_offload, tx_jumbo, tx_gso, tx_gso_segs, announces;
	uint64_t rx_gso6, rx_bad_gso, tx_gso6, tx_gso6_segs;
	uint64_t rx_gro, rx_gro_segs, rx_gro_capped;
	uint64_t tx_large, tx_large_conns, tx_large_broken;
};

/* The TCP segment being built from consecutive received segments of one
 * flow (software receive coalescing): see gro.c. */
struct vnet_gro {
	struct pbuf *p;            /* NULL: none open */
	uint32_t next_seq;         /* sequence number the next segment must carry */
	uint16_t segs;             /* segments in it so far */
};

/* The TCP frame in the TX batch that later segments of the same flow may
 * join (HOST_TSO4/6): see tx_coalesce() in tx.c. */
struct vnet_gso_open {
	int32_t slot;              /* index in tx_batch, or -1: none open */
	uint32_t next_seq;         /* sequence number the next segment must carry */
	uint16_t mss;              /* payload of the first segment: gso_size */
	uint16_t hlen;             /* Ethernet + IP + TCP header bytes */
	uint16_t segs;             /* segments in the frame so far */
	bool v6;                   /* TCP over IPv6 */
};

struct vnet_netif {
	struct netif nif;          /* first: callbacks get &nif back */
	struct vnet_dev *dev;
	struct vnet_pool *pool;
	struct vnet_iface *ifc;    /* the owner, for callbacks */
	struct vnet_rx_slot *slots;
	uint32_t nslots;
	uint32_t rx_reserve;
	uint32_t rx_held;          /* slots in use (lwIP holds the buffer) */
	uint32_t data_room;
	struct vnet_pool *jumbo;   /* TX buffers for frames past data_room (NULL: none) */
	uint32_t jumbo_room;       /* their data room (0 without) */
	uint8_t *scratch;          /* linearises chained frames for the frame hook (MRG_RXBUF) */
	uint32_t scratch_len;
	uint64_t features;         /* negotiated device features */
	uint32_t speed_mbps;       /* SPEED_DUPLEX (UINT32_MAX: unknown) */
	uint8_t duplex;            /* 1 full, 0 half, 0xff unknown */
	uint8_t hdr_len;           /* virtio_net_hdr bytes before data */
	uint16_t rx_burst;
	uint16_t tx_n;
	bool rx_copy;
	bool icmp_echo;
	bool rx_csum_check;
	bool link_up;
	bool announce;
	bool broken;               /* vnet_dev_broken() said so at the last check */
	bool rx_large;             /* a large segment (GUEST_TSO4/6, or coalesced) is being input:
	                            * port.c's TCP hook acknowledges it at once */
	bool guest_csum;           /* GUEST_CSUM in force: RX buf flags are valid */
	bool mrg;                  /* MRG_RXBUF: RX frames may be chains */
	bool tx_csum;              /* CSUM: TCP/UDP checksums left to the device */
	bool tx_tso4, tx_tso6;     /* HOST_TSO4/6 (with CSUM and a jumbo pool): TCP segments coalesced */
	bool lro4, lro6;           /* GUEST_TSO4/6 in force: large segments arrive whole */
	bool ip6;                  /* IPv6 on: lwIP takes IPv6 frames */
	bool no_tx_csum, no_tso;   /* from the conf */
	bool gro;                  /* coalesce received TCP segments (conf: !no_gro) */
	struct vnet_gro gro_open;
	uint16_t conf_mtu;         /* from the conf (0: the device's) */
	struct vnet_gso_open gso;
	struct vnet_buf *join;     /* large send: the IPv4 fragments of a large TCP segment so far (tx.c) */
	uint16_t join_id;          /* their IP identification */
	uint64_t link_poll_us;
	uint64_t link_next_us;
	vnet_iface_link_fn link_cb;
	void *link_arg;
	vnet_iface_frame_fn frame_hook;
	void *frame_arg;
	struct vnet_buf *tx_batch[VNET_NETIF_TX_BATCH];
	struct vnet_netif_counters c;
};

struct vnet_netif_conf {
	uint32_t ip, netmask, gateway;   /* host byte order */
	uint8_t ip6[16];                 /* static IPv6 address, network order (zero: none) */
	uint8_t ip6_prefix_len;          /* its on-link prefix (0: 64) */
	bool no_ip6;                     /* no IPv6 at all */
	struct vnet_pool *pool;
	struct vnet_pool *jumbo_pool;    /* may be NULL */
	uint16_t mtu;                    /* 0: the device's */
	bool no_tx_csum, no_tso;         /* leave negotiated offloads unused */
	bool no_gro;                     /* hand every received segment to lwIP alone */
	uint32_t rx_reserve;
	uint32_t link_poll_ms;
	uint16_t rx_burst;
	bool rx_copy, icmp_echo, rx_csum_check, make_default;
};

/* ---- netif.c: set-up and link state ---- */

/* The glue's netif around lwIP's @nif (lwIP's callbacks get &vn->nif). */
static inline struct vnet_netif *vnet_netif_of(struct netif *nif)
{
	return (struct vnet_netif *)(void *)((char *)nif - offsetof(struct vnet_netif, nif));
}

/* Add the netif to lwIP (lwip_init() must have run). 0 or -errno; on
 * failure nothing is left allocated. */
int vnet_netif_add(struct vnet_netif *vn, struct vnet_dev *dev, struct vnet_iface *ifc,
                   const struct vnet_netif_conf *conf);
/* Remove it from lwIP, drop the TX batch and free the slots. Buffers lwIP
 * still holds (there should be none once PCBs are gone) are reported. */
void vnet_netif_remove(struct vnet_netif *vn);
/* Re-read the device STATUS if due (or @force) and tell lwIP on change. */
void vnet_netif_link_check(struct vnet_netif *vn, uint64_t now_us, bool force);

#define VNET_NETIF_CSUM_GEN_L4 (NETIF_CHECKSUM_GEN_UDP | NETIF_CHECKSUM_GEN_TCP)
#define VNET_NETIF_CSUM_CHECK_ALL                                                               \
	(NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_TCP |        \
	 NETIF_CHECKSUM_CHECK_ICMP | NETIF_CHECKSUM_CHECK_ICMP6)

/* lwIP's per-netif checksum flags for the interface's settings: TCP and
 * UDP sums generated unless the device does them (CSUM), everything
 * checked unless checking is off. Inline: RX asks per trusted frame. */
static inline uint16_t vnet_netif_csum_flags(const struct vnet_netif *vn)
{
	uint16_t f = NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_ICMP | NETIF_CHECKSUM_GEN_ICMP6;

	if (!vn->tx_csum)
		f |= VNET_NETIF_CSUM_GEN_L4;
	if (vn->rx_csum_check)
		f |= VNET_NETIF_CSUM_CHECK_ALL;
	return f;
}

/* Apply them (after a change of rx_csum_check). */
void vnet_netif_csum_apply(struct vnet_netif *vn);

/* ---- tx.c ---- */

/* lwIP's linkoutput: the frame into a pool buffer, offloads applied, into
 * the batch (or coalesced into the open TSO frame). */
err_t vnet_netif_linkoutput(struct netif *nif, struct pbuf *p);
/* One TX burst of the batch. @return frames the ring accepted. */
uint32_t vnet_netif_tx_flush(struct vnet_netif *vn);
/* Drop the fragments of a large segment being joined, if any. */
void vnet_netif_join_drop(struct vnet_netif *vn);
/* Queue a raw frame (copied). 0 or -errno. */
int vnet_netif_send_raw(struct vnet_netif *vn, const void *frame, uint32_t len);

/* ---- rx.c ---- */

/* One RX burst into lwIP. @return frames taken from the device. */
uint32_t vnet_netif_rx(struct vnet_netif *vn);
/* Follow the receive offloads in force now (vnet_dev_rx_offloads(): the
 * application may switch them between two bursts): guest_csum, lro4/6. */
void vnet_netif_rx_offloads(struct vnet_netif *vn);
/* Hand @p to lwIP: @trusted skips its L4 checksum checks for this frame, a
 * @large segment is acknowledged at once (vnet_netif_rx_large). */
void vnet_netif_input(struct vnet_netif *vn, struct pbuf *p, bool trusted, bool large);

/* Is @n a glue netif handing lwIP a large segment right now? For port.c's
 * TCP hook, given lwIP's input netif (input is synchronous in NO_SYS). */
static inline bool vnet_netif_rx_large(const struct netif *n)
{
	return n != NULL && n->linkoutput == vnet_netif_linkoutput &&
	       ((const struct vnet_netif *)(const void *)((const char *)n - offsetof(struct vnet_netif, nif)))
	               ->rx_large;
}

struct tcp_pcb;
/* Large send (HOST_TSO4): raise @pcb's MSS to several of @n's wire
 * segments, which the device cuts back (tx.c). For port.c's TCP hook. */
void vnet_netif_large_send(struct netif *n, struct tcp_pcb *pcb);

/* ---- gro.c ---- */

/* Take @p (an IPv4 frame, not a large segment; @trusted: the device
 * vouched for its TCP checksum) into the open coalesced segment, or open
 * one with it. false: not a candidate; the caller hands it to lwIP alone. */
bool vnet_gro_take(struct vnet_netif *vn, struct pbuf *p, bool trusted);
/* Hand the open coalesced segment (if any) to lwIP. */
void vnet_gro_flush(struct vnet_netif *vn);

#endif
