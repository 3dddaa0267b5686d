/* SPDX-License-Identifier: BSD-3-Clause */
/* assert() prints the failed expression on the console and exits QEMU
 * through isa-debug-exit with a failure code (see vnet/baremetal.h). */
#undef assert
/* declared even with NDEBUG: the libc defines it in every build */
void vnet_libc_assert_fail(const char *expr, const char *file, int line, const char *func)
	__attribute__((noreturn));
#ifdef NDEBUG
#define assert(x) ((void)0)
#else
#define assert(x) ((x) ? (void)0 : vnet_libc_assert_fail(#x, __FILE__, __LINE__, __func__))
#endif

#ifndef static_assert
#define static_assert _Static_assert
#endif
