/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A read-only flattened device tree walker (Devicetree Specification
 * v0.4, chapter 5 "Flattened Devicetree (DTB) Format"), enough for a
 * bare-metal image to learn its machine: memory, command line, PCI host
 * bridge, virtio-mmio windows. Every offset and length read from the
 * blob is checked against its header: a corrupt tree is an error, never
 * a read out of bounds.
 */
#ifndef VNET_FDT_H
#define VNET_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_MAGIC     0xd00dfeedu
#define FDT_MAX_DEPTH 16

/* A node as the walker passes it to the visitor: valid during the call. */
struct fdt_node {
	const void *fdt;
	const struct fdt_node *parent; /* NULL for the root */
	const char *name;              /* "pcie@10000000"; "" for the root */
	uint32_t props;                /* offset of its first property token */
	uint32_t addr_cells;           /* its #address-cells (for its children) */
	uint32_t size_cells;           /* its #size-cells (for its children) */
	unsigned depth;                /* root = 0 */
};

typedef void (*fdt_visit_fn)(const struct fdt_node *n, void *arg);

/* 0 when @fdt is a well-formed DTB header (version 16 or 17), with its
 * blocks inside totalsize; -EINVAL otherwise. */
int fdt_check(const void *fdt);
/* The blob's total size (after a successful fdt_check). */
uint32_t fdt_size(const void *fdt);
/* Call @fn on every node, parents before children.
 * @return 0, or -EINVAL on a malformed structure block. */
int fdt_walk(const void *fdt, fdt_visit_fn fn, void *arg);

/* The value of property @name of @n, its length in *@len; NULL if absent. */
const void *fdt_prop(const struct fdt_node *n, const char *name, uint32_t *len);
/* Whether @n's compatible string list holds @compat. */
bool fdt_compatible(const struct fdt_node *n, const char *compat);
/* Whether the node's name, without its unit address, is @base. */
bool fdt_name_is(const struct fdt_node *n, const char *base);
/* A NUL-terminated string property, or NULL. */
const char *fdt_prop_str(const struct fdt_node *n, const char *name);
/* A 1- or 2-cell number property, or @def when absent or malformed. */
uint64_t fdt_prop_u64(const struct fdt_node *n, const char *name, uint64_t def);
/* The @i-th (address, size) pair of @n's reg, in its parent's cells.
 * @return 0, or -ENOENT past the last pair. */
int fdt_reg(const struct fdt_node *n, unsigned i, uint64_t *base, uint64_t *size);
/* A big-endian number of @cells (1 or 2) 32-bit cells. */
uint64_t fdt_cells(const void *p, uint32_t cells);
/* The @i-th /memreserve/ entry. @return 0, or -ENOENT past the last one. */
int fdt_memreserve(const void *fdt, unsigned i, uint64_t *base, uint64_t *size);

#endif
