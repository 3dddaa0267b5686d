/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stdio.h for the bare-metal C library: formatted output to a buffer or to
 * the serial console. stdout and stderr are both the console; there is no
 * input and no file system.
 *
 * Conversions: d i u x X o c s p % and f F (e/g print like f); flags
 * - 0 + space #; width and precision (numbers or *); length hh h l ll z j t.
 */
#ifndef VNET_LIBC_STDIO_H
#define VNET_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

typedef struct vnet_libc_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
int sprintf(char *restrict buf, const char *restrict fmt, ...)
	__attribute__((format(printf, 2, 3)));

int vprintf(const char *restrict fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int vfprintf(FILE *f, const char *restrict fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int fprintf(FILE *f, const char *restrict fmt, ...) __attribute__((format(printf, 2, 3)));

int putchar(int c);
int puts(const char *s);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
int fputs(const char *s, FILE *f);
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *f);
/* Output is unbuffered; this only exists for portable code. */
int fflush(FILE *f);

#endif
