/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * printf family (C11 7.21.6.1) over one formatter that writes into a sink:
 * a caller's buffer (snprintf) or a small stack buffer flushed to the serial
 * console (printf). No recursion, no allocation, no floating-point library.
 */
#define VNET_LIBC_IMPL 1
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vnet/baremetal.h>

struct vnet_libc_file {
	int unused;
};
static struct vnet_libc_file console_file;
FILE *const stdout = &console_file;
FILE *const stderr = &console_file;

struct sink {
	char *buf;
	size_t size;    /* buffer size; for snprintf one byte is kept for NUL */
	size_t pos;     /* bytes in buf */
	size_t count;   /* bytes the whole output needs */
	int console;    /* flush buf to the console when full */
};

static void flush(struct sink *k)
{
	if (k->console && k->pos) {
		vnet_console_write(k->buf, k->pos);
		k->pos = 0;
	}
}

static void put(struct sink *k, char c)
{
	k->count++;
	if (k->console) {
		k->buf[k->pos++] = c;
		if (k->pos == k->size)
			flush(k);
	} else if (k->pos + 1 < k->size) {
		k->buf[k->pos++] = c;
	}
}

static void put_n(struct sink *k, char c, long n)
{
	while (n-- > 0)
		put(k, c);
}

static void put_s(struct sink *k, const char *s, size_t n)
{
	while (n--)
		put(k, *s++);
}

#define F_LEFT  0x01
#define F_ZERO  0x02
#define F_PLUS  0x04
#define F_SPACE 0x08
#define F_ALT   0x10

/* One converted field: [spaces] prefix [zeros] body [tail zeros] [spaces]. */
static void field(struct sink *k, const char *pre, size_t prelen, long zeros,
                  const char *body, size_t len, long tail, int flags, long width)
{
	long pad = width - (long)(prelen + len) - zeros - tail;

	if (pad > 0 && (flags & F_ZERO) && !(flags & F_LEFT)) {
		zeros += pad;
		pad = 0;
	}
	if (!(flags & F_LEFT))
		put_n(k, ' ', pad);
	put_s(k, pre, prelen);
	put_n(k, '0', zeros);
	put_s(k, body, len);
	put_n(k, '0', tail);
	if (flags & F_LEFT)
		put_n(k, ' ', pad);
}

/* Writes the digits of @v in @base backwards, ending at @end; returns the first. */
static char *utoa(char *end, unsigned long long v, unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

static void fmt_int(struct sink *k, unsigned long long mag, int neg, unsigned base, int upper,
                    int flags, long width, long prec)
{
	char buf[24], pre[3];
	size_t prelen = 0;
	char *s = buf + sizeof(buf);
	size_t len;
	long zeros;

	if (!(prec == 0 && mag == 0))
		s = utoa(buf + sizeof(buf), mag, base, upper);
	len = (size_t)(buf + sizeof(buf) - s);

	if (neg)
		pre[prelen++] = '-';
	else if (flags & F_PLUS)
		pre[prelen++] = '+';
	else if (flags & F_SPACE)
		pre[prelen++] = ' ';
	if ((flags & F_ALT) && base == 16 && mag) {
		pre[prelen++] = '0';
		pre[prelen++] = upper ? 'X' : 'x';
	}
	zeros = prec > (long)len ? prec - (long)len : 0;
	if ((flags & F_ALT) && base == 8 && zeros == 0 && (len == 0 || *s != '0'))
		zeros = 1;
	if (prec >= 0)
		flags &= ~F_ZERO; /* C11: a precision overrides the 0 flag */
	field(k, pre, prelen, zeros, s, len, 0, flags, width);
}

/* a * b = hi + *lo exactly (Dekker's product, Veltkamp's split at 27
 * bits): tells a real tie from a product that merely rounded to .5. */
static double exact_mul(double a, double b, double *lo)
{
	const double split = 134217729.0; /* 2^27 + 1 */
	double hi = a * b;
	double ta = split * a, ah = ta - (ta - a), al = a - ah;
	double tb = split * b, bh = tb - (tb - b), bl = b - bh;

	*lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
	return hi;
}

/*
 * Fixed-point only (%f); %e and %g print the same way. Up to 9 fraction
 * digits are computed (more are zeros), and past 1e19 the integer part's
 * low digits are zeros: a double holds about 16 significant digits anyway.
 */
static void fmt_float(struct sink *k, double v, int upper, int flags, long width, long prec)
{
	static const uint64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
	                                  10000000, 100000000, 1000000000 };
	char ibuf[24], fbuf[10];
	char sign = 0;
	char *is;
	long fprec, scale = 0, total, pad;
	uint64_t ip, fp = 0;
	int dot;

	if (prec < 0)
		prec = 6;
	if (v < 0 || (v == 0 && 1 / v < 0)) {
		sign = '-';
		v = -v;
	} else if (flags & (F_PLUS | F_SPACE)) {
		sign = (flags & F_PLUS) ? '+' : ' ';
	}
	if (v != v || v > 1.7976931348623157e308) {
		const char *w = v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");

		field(k, &sign, sign ? 1 : 0, 0, w, 3, 0, flags & ~F_ZERO, width);
		return;
	}
	while (v >= 1e19) { /* bounded: at most ~290 steps for DBL_MAX */
		v /= 10;
		scale++;
	}
	fprec = prec > 9 ? 9 : prec;
	ip = (uint64_t)v;
	if (scale == 0) {
		double lo, f = exact_mul(v - (double)ip, (double)pow10[fprec], &lo), rem;

		fp = (uint64_t)f;
		rem = f - (double)fp;
		/* Round to nearest; an exact tie goes to even, as in glibc. */
		if (rem > 0.5 || (rem == 0.5 && (lo > 0 || (lo == 0 && ((fprec ? fp : ip) & 1)))))
			fp++;
		if (fp >= pow10[fprec]) { /* rounding carried into the integer part */
			fp -= pow10[fprec];
			ip++;
		}
	}
	for (long i = fprec; i-- > 0;) {
		fbuf[i] = (char)('0' + fp % 10);
		fp /= 10;
	}
	is = utoa(ibuf + sizeof(ibuf), ip, 10, 0);
	dot = prec > 0 || (flags & F_ALT);
	total = (sign ? 1 : 0) + (ibuf + sizeof(ibuf) - is) + scale + (dot ? 1 + prec : 0);
	pad = width > total ? width - total : 0;

	if (!(flags & F_LEFT) && !(flags & F_ZERO))
		put_n(k, ' ', pad);
	if (sign)
		put(k, sign);
	if (!(flags & F_LEFT) && (flags & F_ZERO))
		put_n(k, '0', pad);
	put_s(k, is, (size_t)(ibuf + sizeof(ibuf) - is));
	put_n(k, '0', scale);
	if (dot) {
		put(k, '.');
		put_s(k, fbuf, (size_t)fprec);
		put_n(k, '0', prec - fprec);
	}
	if (flags & F_LEFT)
		put_n(k, ' ', pad);
}

static int format(struct sink *k, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int flags = 0, len = 0;
		long width = 0, prec = -1;
		unsigned long long mag;
		long long sv;
		const char *start = fmt;

		if (*fmt != '%') {
			put(k, *fmt);
			continue;
		}
		for (;;) {
			char c = *++fmt;

			if (c == '-')
				flags |= F_LEFT;
			else if (c == '0')
				flags |= F_ZERO;
			else if (c == '+')
				flags |= F_PLUS;
			else if (c == ' ')
				flags |= F_SPACE;
			else if (c == '#')
				flags |= F_ALT;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			for (; *fmt >= '0' && *fmt <= '9'; fmt++)
				width = width < 100000 ? width * 10 + (*fmt - '0') : width;
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1;
				fmt++;
			} else {
				for (; *fmt >= '0' && *fmt <= '9'; fmt++)
					prec = prec < 100000 ? prec * 10 + (*fmt - '0') : prec;
			}
		}
		/* Length: h=-1, hh=-2, l=1, ll/j=2, z/t=3 (size_t/ptrdiff_t), L=4. */
		for (;; fmt++) {
			if (*fmt == 'h')
				len = len == -1 ? -2 : -1;
			else if (*fmt == 'l')
				len = len == 1 ? 2 : 1;
			else if (*fmt == 'j')
				len = 2;
			else if (*fmt == 'z' || *fmt == 't')
				len = 3;
			else if (*fmt == 'L')
				len = 4;
			else
				break;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			if (len == 1 || len == 2 || len == 3)
				sv = len == 3 ? (long long)va_arg(ap, long) : va_arg(ap, long long);
			else
				sv = va_arg(ap, int);
			if (len == -1)
				sv = (short)sv;
			else if (len == -2)
				sv = (signed char)sv; /* NOLINT(bugprone-signed-char-misuse,cert-str34-c): %hhd */
			mag = sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv;
			fmt_int(k, mag, sv < 0, 10, 0, flags, width, prec);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (len >= 1 && len <= 3)
				mag = va_arg(ap, unsigned long long);
			else
				mag = va_arg(ap, unsigned int);
			if (len == -1)
				mag = (unsigned short)mag;
			else if (len == -2)
				mag = (unsigned char)mag;
			fmt_int(k, mag, 0, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X',
			        flags & ~(F_PLUS | F_SPACE), width, prec);
			break;
		case 'p': {
			void *p = va_arg(ap, void *);

			if (!p)
				field(k, "", 0, 0, "(nil)", 5, 0, flags & ~F_ZERO, width);
			else
				fmt_int(k, (uintptr_t)p, 0, 16, 0, (flags | F_ALT) & ~(F_PLUS | F_SPACE),
				        width, prec);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			field(k, "", 0, 0, &c, 1, 0, flags & ~F_ZERO, width);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			field(k, "", 0, 0, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s), 0,
			      flags & ~F_ZERO, width);
			break;
		}
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G': {
			double v = len == 4 ? (double)va_arg(ap, long double) : va_arg(ap, double);

			fmt_float(k, v, *fmt == 'F' || *fmt == 'E' || *fmt == 'G', flags, width, prec);
			break;
		}
		case '%':
			put(k, '%');
			break;
		default:
			/* Unknown conversion (or %n, refused): print it as written. */
			if (!*fmt)
				fmt--;
			put_s(k, start, (size_t)(fmt - start + 1));
			break;
		}
	}
	return k->count > INT32_MAX ? INT32_MAX : (int)k->count;
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct sink k = { .buf = buf, .size = size };
	int n = format(&k, fmt, ap);

	if (size)
		buf[k.pos] = '\0';
	return n;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
	return vsnprintf(buf, SIZE_MAX, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, SIZE_MAX, fmt, ap);
	va_end(ap);
	return n;
}

int vfprintf(FILE *f, const char *restrict fmt, va_list ap)
{
	char buf[128];
	struct sink k = { .buf = buf, .size = sizeof(buf), .console = 1 };
	int n;

	(void)f;
	n = format(&k, fmt, ap);
	flush(&k);
	return n;
}

int vprintf(const char *restrict fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

int printf(const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

int fprintf(FILE *f, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *f)
{
	(void)f;
	if (size == 0 || n == 0)
		return 0;
	vnet_console_write(p, size * n);
	return n;
}

int fputs(const char *s, FILE *f)
{
	fwrite(s, 1, strlen(s), f);
	return 0;
}

int fputc(int c, FILE *f)
{
	char ch = (char)c;

	fwrite(&ch, 1, 1, f);
	return (unsigned char)c;
}

int putc(int c, FILE *f)
{
	return fputc(c, f);
}

int putchar(int c)
{
	return fputc(c, stdout);
}

int puts(const char *s)
{
	fputs(s, stdout);
	return fputc('\n', stdout) == EOF ? EOF : 1;
}

int fflush(FILE *f)
{
	(void)f;
	return 0;
}
