/* SPDX-License-Identifier: BSD-3-Clause */
/* See fdt.h. All numbers in a DTB are big-endian; the blob is only read. */
#include <errno.h>
#include <string.h>

#include "fdt.h"

#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u

/* Header fields (spec 5.2), byte offsets. */
#define H_MAGIC        0
#define H_TOTALSIZE    4
#define H_OFF_STRUCT   8
#define H_OFF_STRINGS  12
#define H_OFF_RSVMAP   16
#define H_VERSION      20
#define H_LAST_COMP    24
#define H_SIZE_STRINGS 32
#define H_SIZE_STRUCT  36
#define HEADER_V17     40

/* A sanity bound: QEMU's trees are a few KiB, Linux caps them at 2 MiB. */
#define FDT_SIZE_LIMIT (16u << 20)

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t hdr(const void *fdt, unsigned off)
{
	return be32((const uint8_t *)fdt + off);
}

uint64_t fdt_cells(const void *p, uint32_t cells)
{
	if (cells == 1)
		return be32(p);
	if (cells == 2)
		return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
	return 0;
}

static uint32_t align4(uint32_t v)
{
	return (v + 3u) & ~3u;
}

/* [start, end) of the structure block; version 16 has no size field. */
static void struct_block(const void *fdt, uint32_t *start, uint32_t *end)
{
	*start = hdr(fdt, H_OFF_STRUCT);
	*end = hdr(fdt, H_VERSION) >= 17 ? *start + hdr(fdt, H_SIZE_STRUCT) : hdr(fdt, H_TOTALSIZE);
}

int fdt_check(const void *fdt)
{
	uint32_t total, s0, s1, str, strsz, rsv;

	if (!fdt || hdr(fdt, H_MAGIC) != FDT_MAGIC)
		return -EINVAL;
	total = hdr(fdt, H_TOTALSIZE);
	if (total < HEADER_V17 || total > FDT_SIZE_LIMIT)
		return -EINVAL;
	if (hdr(fdt, H_VERSION) < 16 || hdr(fdt, H_LAST_COMP) > 17)
		return -EINVAL;
	struct_block(fdt, &s0, &s1);
	str = hdr(fdt, H_OFF_STRINGS);
	strsz = hdr(fdt, H_SIZE_STRINGS);
	rsv = hdr(fdt, H_OFF_RSVMAP);
	if ((s0 & 3u) || (rsv & 7u) || s0 > total || s1 < s0 || s1 > total || str > total ||
	    strsz > total - str || rsv > total)
		return -EINVAL;
	return 0;
}

uint32_t fdt_size(const void *fdt)
{
	return hdr(fdt, H_TOTALSIZE);
}

/* The property name at @nameoff in the strings block, or NULL. */
static const char *prop_name(const void *fdt, uint32_t nameoff)
{
	uint32_t str = hdr(fdt, H_OFF_STRINGS), size = hdr(fdt, H_SIZE_STRINGS);
	const char *s = (const char *)fdt + str + nameoff;

	if (nameoff >= size || !memchr(s, '\0', size - nameoff))
		return NULL;
	return s;
}

const void *fdt_prop(const struct fdt_node *n, const char *name, uint32_t *len)
{
	const uint8_t *b = n->fdt;
	uint32_t s0, end, off = n->props;

	struct_block(n->fdt, &s0, &end);
	while (off + 4 <= end) {
		uint32_t tok = be32(b + off), plen;
		const char *pname;

		if (tok == FDT_NOP) {
			off += 4;
			continue;
		}
		if (tok != FDT_PROP || off + 12 > end)
			return NULL; /* past the properties: a subnode or the end */
		plen = be32(b + off + 4);
		pname = prop_name(n->fdt, be32(b + off + 8));
		if (plen > end - (off + 12))
			return NULL;
		if (pname && strcmp(pname, name) == 0) {
			if (len)
				*len = plen;
			return b + off + 12;
		}
		off = align4(off + 12 + plen);
	}
	return NULL;
}

const char *fdt_prop_str(const struct fdt_node *n, const char *name)
{
	uint32_t len;
	const char *s = fdt_prop(n, name, &len);

	if (!s || len == 0 || s[len - 1] != '\0')
		return NULL;
	return s;
}

uint64_t fdt_prop_u64(const struct fdt_node *n, const char *name, uint64_t def)
{
	uint32_t len;
	const void *p = fdt_prop(n, name, &len);

	if (!p || (len != 4 && len != 8))
		return def;
	return fdt_cells(p, len / 4);
}

bool fdt_compatible(const struct fdt_node *n, const char *compat)
{
	uint32_t len, off = 0;
	const char *s = fdt_prop(n, "compatible", &len);

	while (s && off < len) {
		const char *e = memchr(s + off, '\0', len - off);

		if (!e)
			return false;
		if (strcmp(s + off, compat) == 0)
			return true;
		off = (uint32_t)(e - s) + 1;
	}
	return false;
}

bool fdt_name_is(const struct fdt_node *n, const char *base)
{
	size_t k = strlen(base);

	return strncmp(n->name, base, k) == 0 && (n->name[k] == '\0' || n->name[k] == '@');
}

int fdt_reg(const struct fdt_node *n, unsigned i, uint64_t *base, uint64_t *size)
{
	uint32_t len, ac, sc, entry;
	const uint8_t *p = fdt_prop(n, "reg", &len);

	if (!p || !n->parent)
		return -ENOENT;
	ac = n->parent->addr_cells;
	sc = n->parent->size_cells;
	if (ac < 1 || ac > 2 || sc > 2)
		return -ENOENT;
	entry = 4 * (ac + sc);
	if ((uint64_t)(i + 1) * entry > len)
		return -ENOENT;
	p += (size_t)i * entry;
	*base = fdt_cells(p, ac);
	*size = fdt_cells(p + 4 * ac, sc);
	return 0;
}

int fdt_memreserve(const void *fdt, unsigned i, uint64_t *base, uint64_t *size)
{
	uint32_t off = hdr(fdt, H_OFF_RSVMAP), total = hdr(fdt, H_TOTALSIZE);

	for (unsigned k = 0;; k++, off += 16) {
		const uint8_t *e = (const uint8_t *)fdt + off;
		uint64_t b, s;

		if (off + 16 > total)
			return -ENOENT; /* no terminator: malformed, but nothing to read */
		b = fdt_cells(e, 2);
		s = fdt_cells(e + 8, 2);
		if (b == 0 && s == 0)
			return -ENOENT;
		if (k == i) {
			*base = b;
			*size = s;
			return 0;
		}
	}
}

int fdt_walk(const void *fdt, fdt_visit_fn fn, void *arg)
{
	struct fdt_node stack[FDT_MAX_DEPTH];
	const uint8_t *b = fdt;
	uint32_t off, end;
	unsigned depth = 0;

	if (fdt_check(fdt))
		return -EINVAL;
	struct_block(fdt, &off, &end);
	while (off + 4 <= end) {
		uint32_t tok = be32(b + off);
		const char *name, *nul;
		struct fdt_node *n;

		off += 4;
		switch (tok) {
		case FDT_BEGIN_NODE:
			name = (const char *)b + off;
			nul = memchr(name, '\0', end - off);
			if (!nul || depth == FDT_MAX_DEPTH)
				return -EINVAL;
			off = align4(off + (uint32_t)(nul - name) + 1);
			n = &stack[depth];
			n->fdt = fdt;
			n->parent = depth ? &stack[depth - 1] : NULL;
			n->name = name;
			n->props = off;
			n->depth = depth;
			/* Devicetree spec 2.3.5: defaults 2 and 1. */
			n->addr_cells = (uint32_t)fdt_prop_u64(n, "#address-cells", 2);
			n->size_cells = (uint32_t)fdt_prop_u64(n, "#size-cells", 1);
			fn(n, arg);
			depth++;
			break;
		case FDT_END_NODE:
			if (depth == 0)
				return -EINVAL;
			depth--;
			break;
		case FDT_PROP:
			if (off + 8 > end || be32(b + off) > end - (off + 8))
				return -EINVAL;
			off = align4(off + 8 + be32(b + off));
			break;
		case FDT_NOP:
			break;
		case FDT_END:
			return depth == 0 ? 0 : -EINVAL;
		default:
			return -EINVAL;
		}
	}
	return -EINVAL; /* no FDT_END */
}
