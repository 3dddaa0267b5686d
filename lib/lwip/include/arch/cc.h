/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP compiler/platform port for vnet (see lwIP's src/include/lwip/arch.h
 * for what a port may define). Same file for Linux and bare metal; the
 * differences are what a freestanding C library lacks.
 */
#ifndef VNET_LWIP_ARCH_CC_H
#define VNET_LWIP_ARCH_CC_H

#include <stdint.h>

/* ---- byte order (glibc's <endian.h> may have defined it already, with
 * the same values lwIP uses) ---- */
#ifdef BYTE_ORDER
/* keep it */
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE_ORDER BIG_ENDIAN
#else
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* ---- what a freestanding libc may not have (lib/libc on bare metal) ----
 * lwIP has its own ctype fallbacks; printf formats are only used by debug
 * output; ssize_t is only used by the socket API (off). */
#if !__STDC_HOSTED__
#if !defined(__has_include) || !__has_include(<ctype.h>)
#define LWIP_NO_CTYPE_H 1
#endif
#if !defined(__has_include) || !__has_include(<inttypes.h>)
#define LWIP_NO_INTTYPES_H 1
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"
#endif
#define LWIP_NO_UNISTD_H 1
#include <limits.h>
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif
typedef long ssize_t;
#endif

/* ---- random numbers (TCP initial sequence numbers, ephemeral ports):
 * our own PRNG, seeded from the cycle counter (lib/lwip/port.c). ---- */
uint32_t vnet_lwip_rand(void);
#define LWIP_RAND() ((u32_t)vnet_lwip_rand())

/* ---- the Internet checksum, 8 bytes per load (lib/lwip/port.c) ---- */
uint16_t vnet_lwip_chksum(const void *data, int len);
#define LWIP_CHKSUM vnet_lwip_chksum

/* ---- diagnostics: the library never prints. Assertions are logged
 * through vnet_log at ERR level and counted, and execution goes on (an
 * appliance keeps running; tests fail on a non-zero count, see
 * vnet_iface_stats.lwip_asserts). ---- */
void vnet_lwip_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_ASSERT(x) vnet_lwip_assert((x), __FILE__, __LINE__)

#ifdef VNET_LWIP_DIAG
void vnet_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define LWIP_PLATFORM_DIAG(x) do { vnet_lwip_diag x; } while (0)
#else
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#endif

#endif
