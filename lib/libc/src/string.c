/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * string.h functions. Built with -fno-tree-loop-distribute-patterns (see
 * lib/arch/x86_64/CMakeLists.txt): otherwise gcc recognises the loops below
 * as memcpy/memset and calls them from inside themselves.
 */
#define VNET_LIBC_IMPL 1
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Word accesses that may alias anything (C11 6.5p7 would forbid a plain
 * uint64_t * over another object's bytes). */
typedef uint64_t __attribute__((may_alias)) word_t;

#define WSIZE sizeof(word_t)

/* Forward copy without restrict: memmove uses it on overlapping buffers
 * (dst below src), where reading each word before writing it is enough. */
static void copy_fwd(unsigned char *d, const unsigned char *s, size_t n)
{
	/* Words only when both sides can be aligned at once. */
	if (n >= 4 * WSIZE && (((uintptr_t)d ^ (uintptr_t)s) & (WSIZE - 1)) == 0) {
		while ((uintptr_t)d & (WSIZE - 1)) {
			*d++ = *s++;
			n--;
		}
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE, d += 4 * WSIZE, s += 4 * WSIZE) {
			word_t a = ((const word_t *)s)[0], b = ((const word_t *)s)[1];
			word_t c = ((const word_t *)s)[2], e = ((const word_t *)s)[3];
			((word_t *)d)[0] = a;
			((word_t *)d)[1] = b;
			((word_t *)d)[2] = c;
			((word_t *)d)[3] = e;
		}
		for (; n >= WSIZE; n -= WSIZE, d += WSIZE, s += WSIZE)
			*(word_t *)d = *(const word_t *)s;
	}
	while (n--)
		*d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_fwd(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	/* Forward is safe unless dst starts inside [src, src+n). */
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		copy_fwd(d, s, n);
		return dst;
	}
	/* Backward, word-wise when the two are congruent mod 8. */
	d += n;
	s += n;
	if ((((uintptr_t)d ^ (uintptr_t)s) & (WSIZE - 1)) == 0) {
		while (n && ((uintptr_t)d & (WSIZE - 1))) {
			*--d = *--s;
			n--;
		}
		for (; n >= WSIZE; n -= WSIZE) {
			d -= WSIZE;
			s -= WSIZE;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	while (n--)
		*--d = *--s;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (n >= 4 * WSIZE) {
		word_t w = (unsigned char)c * 0x0101010101010101ull;

		while ((uintptr_t)d & (WSIZE - 1)) {
			*d++ = (unsigned char)c;
			n--;
		}
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE, d += 4 * WSIZE) {
			((word_t *)d)[0] = w;
			((word_t *)d)[1] = w;
			((word_t *)d)[2] = w;
			((word_t *)d)[3] = w;
		}
		for (; n >= WSIZE; n -= WSIZE, d += WSIZE)
			*(word_t *)d = w;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

static int lower(int c)
{
	return (unsigned)c - 'A' < 26 ? c | 0x20 : c;
}

int strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int x = lower((unsigned char)*a), y = lower((unsigned char)*b);

		if (x != y)
			return x - y;
		if (!x)
			break;
	}
	return 0;
}

int strcasecmp(const char *a, const char *b)
{
	return strncasecmp(a, b, SIZE_MAX);
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return (char *)hay;
	for (; *hay; hay++)
		if (*hay == *needle && strncmp(hay, needle, n) == 0)
			return (char *)hay;
	return NULL;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;

	while ((*d++ = *src++))
		;
	return dst;
}

/* C11 7.24.2.4: pads with NULs up to n, and does not terminate when src is
 * n bytes or longer. */
char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

char *strcat(char *restrict dst, const char *restrict src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

char *strncat(char *restrict dst, const char *restrict src, size_t n)
{
	char *d = dst + strlen(dst);

	while (n-- && *src)
		*d++ = *src++;
	*d = '\0';
	return dst;
}

size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;

	while (s[n] && strchr(accept, s[n]))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	while (s[n] && !strchr(reject, s[n]))
		n++;
	return n;
}

char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *strdup(const char *s)
{
	return strndup(s, SIZE_MAX);
}

char *strerror(int err)
{
	static const struct {
		int num;
		const char *msg;
	} tab[] = {
		{ 0, "Success" },
		{ EPERM, "Operation not permitted" },
		{ ENOENT, "No such file or directory" },
		{ ESRCH, "No such process" },
		{ EINTR, "Interrupted system call" },
		{ EIO, "Input/output error" },
		{ ENXIO, "No such device or address" },
		{ E2BIG, "Argument list too long" },
		{ ENOEXEC, "Exec format error" },
		{ EBADF, "Bad file descriptor" },
		{ ECHILD, "No child processes" },
		{ EAGAIN, "Resource temporarily unavailable" },
		{ ENOMEM, "Cannot allocate memory" },
		{ EACCES, "Permission denied" },
		{ EFAULT, "Bad address" },
		{ ENOTBLK, "Block device required" },
		{ EBUSY, "Device or resource busy" },
		{ EEXIST, "File exists" },
		{ EXDEV, "Invalid cross-device link" },
		{ ENODEV, "No such device" },
		{ ENOTDIR, "Not a directory" },
		{ EISDIR, "Is a directory" },
		{ EINVAL, "Invalid argument" },
		{ ENFILE, "Too many open files in system" },
		{ EMFILE, "Too many open files" },
		{ ENOTTY, "Inappropriate ioctl for device" },
		{ ETXTBSY, "Text file busy" },
		{ EFBIG, "File too large" },
		{ ENOSPC, "No space left on device" },
		{ ESPIPE, "Illegal seek" },
		{ EROFS, "Read-only file system" },
		{ EMLINK, "Too many links" },
		{ EPIPE, "Broken pipe" },
		{ EDOM, "Numerical argument out of domain" },
		{ ERANGE, "Numerical result out of range" },
		{ EDEADLK, "Resource deadlock avoided" },
		{ ENAMETOOLONG, "File name too long" },
		{ ENOLCK, "No locks available" },
		{ ENOSYS, "Function not implemented" },
		{ ENOTEMPTY, "Directory not empty" },
		{ ELOOP, "Too many levels of symbolic links" },
		{ ENOMSG, "No message of desired type" },
		{ EIDRM, "Identifier removed" },
		{ ENODATA, "No data available" },
		{ ETIME, "Timer expired" },
		{ ENOLINK, "Link has been severed" },
		{ EPROTO, "Protocol error" },
		{ EBADMSG, "Bad message" },
		{ EOVERFLOW, "Value too large for defined data type" },
		{ EILSEQ, "Invalid or incomplete multibyte or wide character" },
		{ ENOTSOCK, "Socket operation on non-socket" },
		{ EDESTADDRREQ, "Destination address required" },
		{ EMSGSIZE, "Message too long" },
		{ EPROTOTYPE, "Protocol wrong type for socket" },
		{ ENOPROTOOPT, "Protocol not available" },
		{ EPROTONOSUPPORT, "Protocol not supported" },
		{ ESOCKTNOSUPPORT, "Socket type not supported" },
		{ ENOTSUP, "Operation not supported" },
		{ EPFNOSUPPORT, "Protocol family not supported" },
		{ EAFNOSUPPORT, "Address family not supported by protocol" },
		{ EADDRINUSE, "Address already in use" },
		{ EADDRNOTAVAIL, "Cannot assign requested address" },
		{ ENETDOWN, "Network is down" },
		{ ENETUNREACH, "Network is unreachable" },
		{ ENETRESET, "Network dropped connection on reset" },
		{ ECONNABORTED, "Software caused connection abort" },
		{ ECONNRESET, "Connection reset by peer" },
		{ ENOBUFS, "No buffer space available" },
		{ EISCONN, "Transport endpoint is already connected" },
		{ ENOTCONN, "Transport endpoint is not connected" },
		{ ESHUTDOWN, "Cannot send after transport endpoint shutdown" },
		{ ETOOMANYREFS, "Too many references: cannot splice" },
		{ ETIMEDOUT, "Connection timed out" },
		{ ECONNREFUSED, "Connection refused" },
		{ EHOSTDOWN, "Host is down" },
		{ EHOSTUNREACH, "No route to host" },
		{ EALREADY, "Operation already in progress" },
		{ EINPROGRESS, "Operation now in progress" },
		{ ESTALE, "Stale file handle" },
		{ EDQUOT, "Disk quota exceeded" },
		{ ECANCELED, "Operation canceled" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].num == err)
			return (char *)tab[i].msg;
	return (char *)"Unknown error";
}
