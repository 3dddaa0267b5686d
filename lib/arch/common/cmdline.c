/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel command line (-append), copied out of firmware memory at boot
 * so that the heap may later reuse whatever held it. */
#include <errno.h>
#include <string.h>
#include <vnet/baremetal.h>

#include "arch/common/cmdline.h"

#define CMDLINE_MAX 2048

static char cmdline[CMDLINE_MAX];

void vnet_cmdline_set(const char *s)
{
	size_t n = strnlen(s, CMDLINE_MAX - 1);

	memcpy(cmdline, s, n);
	cmdline[n] = '\0';
}

const char *vnet_cmdline(void)
{
	return cmdline;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int vnet_cmdline_get(const char *key, char *out, size_t outlen)
{
	size_t klen = key ? strlen(key) : 0;
	const char *p = cmdline, *val = NULL;
	size_t vlen = 0;

	if (klen == 0 || (!out && outlen))
		return -EINVAL;
	while (*p) {
		const char *w, *v;
		size_t wlen, n;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		w = p;
		while (*p && *p != '=' && !is_space(*p))
			p++;
		wlen = (size_t)(p - w);
		v = p;
		n = 0;
		if (*p == '=') {
			p++;
			if (*p == '"') { /* quoted: up to the closing quote */
				v = ++p;
				while (*p && *p != '"')
					p++;
				n = (size_t)(p - v);
				if (*p)
					p++;
			} else {
				v = p;
				while (*p && !is_space(*p))
					p++;
				n = (size_t)(p - v);
			}
		}
		/* Skip the rest of a malformed word such as a="x"y. */
		while (*p && !is_space(*p))
			p++;
		if (wlen == klen && memcmp(w, key, klen) == 0) {
			val = v; /* the last occurrence wins, as in Linux */
			vlen = n;
		}
	}
	if (!val)
		return -ENOENT;
	if (outlen == 0)
		return 0; /* the caller only asked whether the key is there */
	if (vlen >= outlen) {
		memcpy(out, val, outlen - 1);
		out[outlen - 1] = '\0';
		return -ERANGE;
	}
	memcpy(out, val, vlen);
	out[vlen] = '\0';
	return 0;
}
