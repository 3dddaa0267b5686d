/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_LIBC_STRINGS_H
#define VNET_LIBC_STRINGS_H

#include <stddef.h>

int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);

#endif
