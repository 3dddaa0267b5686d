/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 and IPv6 addresses in text form, and the few checks on them that
 * need no network stack: what the Interface API parses and prints. Strict
 * on purpose (configuration comes from command lines and kernel command
 * lines: a typo must fail, not turn into another address).
 *
 * IPv4 addresses are in host byte order (10.0.0.1 is 0x0A000001), IPv6 ones
 * 16 bytes in network order. Every function returns 0 or -EINVAL, and
 * writes its outputs only when it returns 0 unless it says otherwise.
 */
#ifndef VNET_BASE_ADDR_H
#define VNET_BASE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the text form of any IPv6 address, NUL included. */
#define VNET_ADDR_IP6_STRLEN 40

/* A dotted quad, strictly: four decimal parts 0..255, no leading zeros,
 * no blanks, nothing after it. */
int vnet_addr_parse_ip4(const char *s, uint32_t *out);

/* "a.b.c.d:port", or ":port" (address 0); the port decimal, 0..65535. */
int vnet_addr_parse_ip4_port(const char *s, uint32_t *ip, uint16_t *port);

/* An IPv6 address, RFC 4291 2.2 forms 1 and 2 (hexadecimal groups, one
 * "::" at most; no embedded IPv4, no zone), nothing after it. */
int vnet_addr_parse_ip6(const char *s, uint8_t out[16]);

/* "[v6]:port" ("[::]:port" for address 0). The address is written as soon
 * as it parses, even if the port then does not. */
int vnet_addr_parse_ip6_port(const char *s, uint8_t ip[16], uint16_t *port);

/* @ip in the text form of RFC 5952 (lowercase, the longest run of two or
 * more zero groups as "::"). @return its length, or -ENOSPC if @len is
 * smaller than it plus the NUL (VNET_ADDR_IP6_STRLEN is always enough);
 * -EINVAL for a NULL pointer. */
int vnet_addr_format_ip6(const uint8_t ip[16], char *buf, size_t len);

/* A netmask of the CIDR kind: ones, then zeros (0 and all ones included). */
static inline bool vnet_addr_mask4_ok(uint32_t mask)
{
	uint32_t inv = ~mask;

	return (inv & (inv + 1u)) == 0;
}

/* The unspecified IPv6 address, ::. */
bool vnet_addr_ip6_zero(const uint8_t a[16]);

/* A unicast IPv6 address a host may hold: not unspecified, loopback or
 * multicast. */
bool vnet_addr_ip6_unicast(const uint8_t a[16]);

#endif
