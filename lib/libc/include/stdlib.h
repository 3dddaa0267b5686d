/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stdlib.h for the bare-metal C library. malloc and friends share one
 * first-fit heap with vnet_dma_alloc(); exit() and abort() leave QEMU
 * through isa-debug-exit.
 */
#ifndef VNET_LIBC_STDLIB_H
#define VNET_LIBC_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX     0x7fffffff

void *malloc(size_t n);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
/* @p align must be a power of two; n need not be a multiple of it. */
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);

void abort(void) __attribute__((noreturn));
void exit(int status) __attribute__((noreturn));

long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);
int atoi(const char *s);
long atol(const char *s);

int abs(int v);
long labs(long v);
long long llabs(long long v);

int rand(void);
void srand(unsigned seed);

/* Heapsort: O(n log n) worst case, no recursion, not stable. */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
