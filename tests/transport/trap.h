/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trap-and-emulate register windows for transport tests (Linux x86_64).
 *
 * A region is ordinary anonymous memory. Pages that are "armed" are mapped
 * PROT_NONE: each access the driver makes there faults, the hook runs
 * before it (the device model puts the value to be read in place), the
 * page is opened and the CPU single-steps the one instruction (EFLAGS.TF),
 * then the hook runs again after it (the model consumes what was written)
 * and the page is closed again. The driver's own volatile accesses run
 * unchanged, so access widths and order are what real hardware would see.
 *
 * Needs real single-step traps: under valgrind, trap_supported() is false
 * and a test that needs them fails (NEED_TRAPS) rather than passing
 * without checking anything; tools/memcheck leaves these tests out.
 */
#ifndef VNET_TEST_TRAP_H
#define VNET_TEST_TRAP_H

#include <stddef.h>
#include <stdint.h>

struct trap_access {
	size_t off;     /* byte offset in the region */
	unsigned width; /* 1, 2, 4 or 8; 0 if the instruction was not decoded */
	int write;
};

/* @after is 0 before the access (page still closed to the driver, the
 * hook may write the value to be read), 1 after it. */
typedef void (*trap_fn)(void *arg, uint8_t *mem, const struct trap_access *a, int after);

struct trap_region {
	uint8_t *mem;
	size_t len;
	trap_fn fn;
	void *arg;
	uint64_t armed; /* bitmap of armed pages (at most 64) */
};

#define TRAP_PAGE 4096u

/* Map @len bytes (a page multiple, <= 64 pages) of zeroed memory. 0 or -1. */
int trap_init(struct trap_region *r, size_t len, trap_fn fn, void *arg);
/* Trap every access to the pages covering [off, off + len). */
void trap_arm(struct trap_region *r, size_t off, size_t len);
/* Stop trapping and unmap. */
void trap_fini(struct trap_region *r);
/* 1 if single-step trapping works here (not under valgrind). */
int trap_supported(void);

/* In a Check test that drives a trapped region: fail at once where the
 * traps do not work (under valgrind), so that nothing passes unchecked. */
#define NEED_TRAPS() ck_assert_msg(trap_supported(), "no single-step traps here (valgrind?)")

#endif
