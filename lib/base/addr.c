/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 and IPv6 addresses in text form; see addr.h. */
#include <errno.h>
#include <string.h>

#include <vnet/vnet.h>

#include "base/addr.h"
#include "base/bytes.h"
#include "base/platform.h"

/* A dotted quad that stops at @end (NUL or ':'); *@rest then points at it. */
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

int vnet_addr_parse_ip4(const char *s, uint32_t *out)
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

int vnet_addr_parse_ip4_port(const char *s, uint32_t *ip, uint16_t *port)
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
		vnet_put_be16(out + 2 * k, g[i]);
	}
	if (rest != NULL)
		*rest = p;
	return 0;
}

int vnet_addr_parse_ip6(const char *s, uint8_t out[16])
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	return parse_ip6_until(s, '\0', out, NULL);
}

int vnet_addr_parse_ip6_port(const char *s, uint8_t ip[16], uint16_t *port)
{
	const char *p;

	if (s == NULL || ip == NULL || port == NULL || s[0] != '[')
		return -EINVAL;
	if (parse_ip6_until(s + 1, ']', ip, &p) != 0 || p[0] != ']' || p[1] != ':')
		return -EINVAL;
	return parse_port(p + 2, port);
}

int vnet_addr_format_ip6(const uint8_t ip[16], char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[VNET_ADDR_IP6_STRLEN];
	unsigned i, best = 0, best_len = 0, run = 0, n = 0;
	size_t out = 0;

	if (ip == NULL || buf == NULL)
		return -EINVAL;
	/* RFC 5952 4.2: the longest run of two or more zero groups, the first
	 * of equal ones */
	for (i = 0; i < 8; i++) {
		run = vnet_get_be16(ip + 2 * i) == 0 ? run + 1 : 0;
		if (run > best_len) {
			best_len = run;
			best = i + 1 - run;
		}
	}
	if (best_len < 2)
		best_len = 0;
	for (i = 0; i < 8; i++) {
		unsigned v = vnet_get_be16(ip + 2 * i), shift, started = 0;

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

bool vnet_addr_ip6_zero(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

bool vnet_addr_ip6_unicast(const uint8_t a[16])
{
	static const uint8_t loop[16] = {[15] = 1};

	return !vnet_addr_ip6_zero(a) && memcmp(a, loop, 16) != 0 && a[0] != 0xff;
}

/* The public vnet_parse_mac() (vnet/vnet.h): "xx:xx:xx:xx:xx:xx". */
int vnet_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];
	unsigned i, v;

	if (!s || !mac)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		unsigned d;
		v = 0;
		for (d = 0; d < 2; d++, s++) {
			char c = *s;
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return -EINVAL;
		}
		tmp[i] = (uint8_t)v;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	memcpy(mac, tmp, sizeof(tmp)); /* only a whole MAC is written */
	return 0;
}
