/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP 2.1.3 options for vnet: NO_SYS (one thread, run to completion),
 * raw API only, IPv4 + ARP + ICMP, IPv6 + ND + ICMPv6, UDP, TCP (dual
 * stack). Option names and meanings
 * are lwIP's (src/include/lwip/opt.h); every value here is ours.
 *
 * Sizes are for "100 concurrent TCP connections and a 16 MiB transfer at
 * speed", with two interfaces in one process (tests): both ends' PCBs live
 * in this one stack. Each size is guarded by #ifndef so a build can
 * override it with -D (a small bare-metal image, say).
 */
#ifndef VNET_LWIPOPTS_H
#define VNET_LWIPOPTS_H

/* ---- system: no OS, no threads, no locks ------------------------------ */
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_NETIF_API              0
#define LWIP_TIMERS                 1
#define LWIP_CALLBACK_API           1

/* ---- memory: static heap and pools (no malloc after lwip_init) -------- */
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
#define MEM_ALIGNMENT               8
/* The heap holds PBUF_RAM pbufs: TCP send queues (tcp_write copies),
 * ARP-queued frames, UDP/ICMP replies. 16 MiB: 500 connections echoing at
 * once keep ~32 KiB each in flight (with 4 MiB the echo appliance's 500
 * clients ran 4x slower, waiting on memory). */
#ifndef MEM_SIZE
#define MEM_SIZE                    (16 * 1024 * 1024)
#endif
/* PBUF_POOL backs the RX copy path (pool reserve low, or copy mode).
 * Sized for an Ethernet frame, not for TCP_MSS (lwIP's default): larger
 * frames (jumbo, GUEST_TSO4) are copied into chains of them. */
#ifndef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE              512
#endif
#ifndef PBUF_POOL_BUFSIZE
#define PBUF_POOL_BUFSIZE           1536
#endif
/* PBUF_REF/ROM headers: UDP sends point at the caller's data. */
#ifndef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF               256
#endif
#ifndef MEMP_NUM_RAW_PCB
#define MEMP_NUM_RAW_PCB            8
#endif
#ifndef MEMP_NUM_UDP_PCB
#define MEMP_NUM_UDP_PCB            32
#endif
/* Connections: the echo appliance serves 512 clients at once (its
 * examples/echo/echo.c slots, MAX_SERVED) while VNET_TCP_HALF_OPEN_MAX
 * half-open ones wait for their handshake (a SYN flood, or 500 clients
 * connecting at once); tests run 100 with both ends in one stack, plus
 * TIME_WAIT slack (lwIP recycles the oldest TIME_WAIT PCB when it runs
 * out). A PCB is 280 bytes here (x86_64): 2048 of them take 560 KiB. */
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB            2048
#endif
/* A listener takes one PCB per interface address (IPv4 and each IPv6). */
#ifndef MEMP_NUM_TCP_PCB_LISTEN
#define MEMP_NUM_TCP_PCB_LISTEN     64
#endif
/* One per queued or out-of-order TCP segment (32 bytes each): 8192 are
 * ~16 segments for each of 500 busy connections. With 2048, 500 echo
 * clients at once failed 50,000 allocations and took 20 s instead of 5. */
#ifndef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG            8192
#endif
/* 100 SYNs may wait on one unresolved neighbour at start-up. */
#ifndef MEMP_NUM_ARP_QUEUE
#define MEMP_NUM_ARP_QUEUE          256
#endif
#define ARP_QUEUEING                1
#ifndef ARP_QUEUE_LEN
#define ARP_QUEUE_LEN               128
#endif
#define ARP_TABLE_SIZE              32
/* lwIP's own timers plus one per pending dial (vnet_tcp_dial timeout). */
#ifndef MEMP_NUM_SYS_TIMEOUT
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 320)
#endif

/* ---- custom pbufs: zero-copy RX over pool buffers (set explicitly: the
 * default depends on the fragmentation options) ------------------------- */
#define LWIP_SUPPORT_CUSTOM_PBUF    1

/* ---- link layer ------------------------------------------------------- */
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
/* 0: the frame starts at buf->data, which the device wrote; no shift is
 * possible without a copy. x86_64 loads unaligned IP headers at no cost
 * and lwIP reads headers through packed structs. */
#define ETH_PAD_SIZE                0
#define PBUF_LINK_ENCAPSULATION_HLEN 0
#define LWIP_SINGLE_NETIF           0
#define LWIP_NETIF_LINK_CALLBACK    0 /* the glue reports link changes */
#define LWIP_NETIF_STATUS_CALLBACK  0
#define LWIP_NETIF_LOOPBACK         0
#define LWIP_HAVE_LOOPIF            0
/* 0: lwIP hands linkoutput chains (which it copies into one buffer
 * anyway): its IPv4 fragmentation then references a large segment's data
 * instead of copying every fragment (large send, lib/lwip/tx.c), and
 * tcp_write does not copy data the application lent (TCP_WRITE_FLAG_COPY
 * unset, as lwiperf does). */
#define LWIP_NETIF_TX_SINGLE_PBUF   0

/* ---- IPv4, ICMP, raw, UDP --------------------------------------------- */
#define LWIP_IPV4                   1
#define IP_FORWARD                  0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1
#define MEMP_NUM_REASSDATA          8
/* Fragments are copied into PBUF_POOL (not held in pool buffers); 48
 * of them carry the largest UDP datagram (64 KiB / 1480). */
#define IP_REASS_MAX_PBUFS          48
#define LWIP_ICMP                   1
#define LWIP_BROADCAST_PING         0
#define LWIP_RAW                    1
#define LWIP_UDP                    1
#define LWIP_DHCP                   0
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0

/* ---- IPv6: a link-local address from the MAC and an optional static one
 * (vnet_iface_conf), neighbour discovery with duplicate address detection
 * (one probe: an address is usable about a second after the link is up),
 * ICMPv6, fragmentation and reassembly. No MLD: lwIP then accepts the
 * all-nodes group and its addresses' solicited-node groups, all that
 * neighbour discovery needs (a virtio-net device without CTRL_RX passes
 * every multicast frame). No router solicitation, SLAAC or DHCPv6:
 * addresses are configured, not discovered. --------------------------- */
#define LWIP_IPV6                   1
#define LWIP_IPV6_NUM_ADDRESSES     3
#define LWIP_IPV6_FORWARD           0
#define LWIP_IPV6_FRAG              1
#define LWIP_IPV6_REASS             1
/* 64-bit pointers: the reassembly helper does not fit the fragment header */
#define IPV6_FRAG_COPYHEADER        1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_AUTOCONFIG        0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 1
#define LWIP_IPV6_MLD               0
#define LWIP_IPV6_DHCP6             0
#define LWIP_ICMP6                  1
#define LWIP_ND6_QUEUEING           1
/* Frames waiting for a neighbour's address, as ARP_QUEUE_LEN for IPv4. */
#ifndef MEMP_NUM_ND6_QUEUE
#define MEMP_NUM_ND6_QUEUE          128
#endif
#define LWIP_ND6_NUM_NEIGHBORS      32
#define LWIP_ND6_NUM_DESTINATIONS   32
/* UDP over IPv6 binds [::] per interface (SOF_REUSEADDR set by the glue,
 * see udp.c): lwIP keeps the check for every PCB without the flag. */
#define SO_REUSE                    1

/* ---- TCP -------------------------------------------------------------- */
#define LWIP_TCP                    1
/* The largest MSS lwIP will use or announce: enough for a 9000-byte MTU.
 * lwIP announces min(TCP_MSS, MTU - 40) and sends segments of at most
 * min(TCP_MSS, the peer's MSS option, MTU - 40) (TCP_CALCULATE_EFF_SEND_MSS),
 * so on a 1500-byte link this behaves as 1460. Sizes below are in bytes of
 * a 1500-byte-MTU segment (VNET_WIRE_MSS), the common case. */
#ifndef TCP_MSS
#define TCP_MSS                     8960
#endif
#define VNET_WIRE_MSS               1460
/* Window scaling lets the receive window exceed 64 KiB: a 16 MiB transfer
 * over the in-process wire is bound by per-packet work, a wide window
 * keeps the sender's bursts (and so the TX/RX batches) large, and large
 * received segments (GUEST_TSO4: up to 64 KiB each) need several in
 * flight. */
#define LWIP_WND_SCALE              1
#define TCP_RCV_SCALE               3
/* Below 128 KiB: lwIP compares TCP_WND / 2 with a 16-bit MSS. */
#ifndef TCP_WND
#define TCP_WND                     (120 * 1024)
#endif
#ifndef TCP_SND_BUF
#define TCP_SND_BUF                 (128 * VNET_WIRE_MSS)
#endif
#define TCP_SND_QUEUELEN            ((4 * TCP_SND_BUF + (VNET_WIRE_MSS - 1)) / VNET_WIRE_MSS)
/* Only the socket API reads this "writable" mark; lwIP's sanity check
 * wants it below 64 KiB - 4 * TCP_MSS even with window scaling. */
#define TCP_SNDLOWAT                (16 * VNET_WIRE_MSS)
/* The out-of-order queue holds received frames (pool buffers, zero-copy).
 * Bounded per connection at one window: a smaller bound drops the rest of
 * the window after a single loss, and without SACK lwIP then recovers the
 * holes one RTO at a time. The pbuf bound counts buffers (a large segment
 * is a chain of 2 KiB buffers), hence a window's worth of 1 KiB pieces.
 * Pool pressure from many connections is handled by the glue, which
 * copies into PBUF_POOL when the pool runs low. */
#define TCP_QUEUE_OOSEQ             1
#define TCP_OOSEQ_MAX_PBUFS         (TCP_WND / 1024)
#define TCP_OOSEQ_MAX_BYTES         TCP_WND
/* TCP timer tick: fast timer (delayed ACKs) every 100 ms, slow timer
 * (RTO granularity) every 200 ms instead of 250/500: on a LAN the RTO
 * floor of 3 slow ticks is then 0.6 s instead of 1.5 s. */
#define TCP_TMR_INTERVAL            100
/* lwiperf counts its idle timeout in tcp_poll calls of 2 slow ticks,
 * which it takes for 1 s each: 25 x 0.4 s keeps its 10 s. */
#define LWIPERF_TCP_MAX_IDLE_SEC    25U
#define TCP_LISTEN_BACKLOG          0
#define LWIP_TCP_TIMESTAMPS         0
#define LWIP_TCP_KEEPALIVE          0
#define TCP_OVERSIZE                TCP_MSS /* capped by each connection's MSS */
/* 0: tcp_write copies without summing. With CSUM (the usual device) the
 * sum is the device's, so summing while copying was wasted work; without
 * it tcp_output sums the segment, just built and still in cache. */
#define LWIP_CHECKSUM_ON_COPY       0
#define LWIP_ALTCP                  0

/* ---- checksums: per netif, so the glue can skip the check for frames the
 * device marked DATA_VALID and tests can turn checks on and off. ---------- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP             1
#define CHECKSUM_GEN_UDP            1
#define CHECKSUM_GEN_TCP            1
#define CHECKSUM_GEN_ICMP           1
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_UDP          1
#define CHECKSUM_CHECK_TCP          1
#define CHECKSUM_CHECK_ICMP         1

/* ---- statistics: counters only, never printed ------------------------- */
#define LWIP_STATS                  1
#define LWIP_STATS_DISPLAY          0
#define LWIP_STATS_LARGE            1 /* 32-bit counters */
#define LINK_STATS                  1
#define ETHARP_STATS                1
#define IP_STATS                    1
#define IPFRAG_STATS                1
#define ICMP_STATS                  1
#define IP6_STATS                   1
#define IP6_FRAG_STATS              1
#define ICMP6_STATS                 1
#define ND6_STATS                   1
#define MLD6_STATS                  0
#define UDP_STATS                   1
#define TCP_STATS                   1
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define SYS_STATS                   0
#define MIB2_STATS                  0

/* ---- errno: the C library's (our freestanding libc on bare metal) ----- */
#define LWIP_ERRNO_STDINCLUDE       1

/* ---- source-based routing: several interfaces in one stack (two devices
 * joined by the model's wire, in one process) must each send their own
 * traffic. Output with a known source address leaves through the netif
 * that owns it; see vnet_lwip_route_src() in lib/lwip/port.c. ------------ */
#if !defined(__ASSEMBLER__)
struct netif;
struct ip4_addr;
struct netif *vnet_lwip_route_src(const struct ip4_addr *src, const struct ip4_addr *dest);
#endif
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) vnet_lwip_route_src((src), (dest))
/* The same for IPv6: vnet_lwip_route6() in lib/lwip/port.c. */
#if !defined(__ASSEMBLER__)
struct ip6_addr;
struct netif *vnet_lwip_route6(const struct ip6_addr *src, const struct ip6_addr *dest);
#endif
#define LWIP_HOOK_IP6_ROUTE(src, dest) vnet_lwip_route6((src), (dest))

/* ---- every TCP segment lwIP matched to a PCB passes vnet_lwip_tcp_inpkt()
 * in lib/lwip/port.c first: large received segments (GUEST_TSO4) are
 * acknowledged at once, and a SYN to a listener goes through the SYN flood
 * defence below. ---------------------------------------------------------- */
#if !defined(__ASSEMBLER__)
struct tcp_pcb;
struct tcp_hdr;
int vnet_lwip_tcp_inpkt(struct tcp_pcb *pcb, const struct tcp_hdr *hdr);
#endif
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	((err_t)vnet_lwip_tcp_inpkt((struct tcp_pcb *)(pcb), (hdr)))

/* ---- SYN flood defence. lwIP 2.1.3 keeps a half-open (SYN_RCVD) PCB for
 * every SYN until the handshake completes or 20 s pass (its SYN_RCVD
 * timeout), and drops a SYN when no PCB is free: a few hundred spoofed SYNs
 * would deny service for 20 s. Instead, a SYN that finds its listener
 * holding VNET_TCP_HALF_OPEN_MAX half-open connections sheds the ones heard
 * from least recently (VNET_TCP_SHED_BATCH of them at once, silently: a
 * spoofed source never answers), and a SYN that finds no more than
 * VNET_TCP_PCB_RESERVE PCBs free sheds the least recent half-open one of
 * any listener. A genuine handshake completes within a round trip, so it
 * survives unless about VNET_TCP_HALF_OPEN_MAX - VNET_TCP_SHED_BATCH SYNs
 * come in one round trip (96 ms at 10,000 SYNs/s), and so do the
 * handshakes of that many clients connecting at once. Half-open
 * connections never hold more than VNET_TCP_HALF_OPEN_MAX PCBs per
 * listener (280 KiB). ------------------------------------------------- */
#ifndef VNET_TCP_HALF_OPEN_MAX
#define VNET_TCP_HALF_OPEN_MAX      1024
#endif
#ifndef VNET_TCP_SHED_BATCH
#define VNET_TCP_SHED_BATCH         64
#endif
#ifndef VNET_TCP_PCB_RESERVE
#define VNET_TCP_PCB_RESERVE        16
#endif

/* ---- debug: off (LWIP_PLATFORM_DIAG is silent unless VNET_LWIP_DIAG) -- */
#ifndef LWIP_DBG_MIN_LEVEL
#define LWIP_DBG_MIN_LEVEL          LWIP_DBG_LEVEL_ALL
#endif
#ifndef LWIP_DBG_TYPES_ON
#define LWIP_DBG_TYPES_ON           LWIP_DBG_OFF
#endif

#endif
